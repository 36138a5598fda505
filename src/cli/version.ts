import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package's version, from its package.json (dist/cli → the project's root). */
export function version(): string {
  return (
    JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
}
