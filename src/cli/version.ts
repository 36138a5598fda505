import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package's directory (dist/cli → the project's root, or the installed package's). */
export const PACKAGE_DIR = join(__dirname, '..', '..');

/** Where the documents that help and reports name as docs/… are, in this clone or package. */
export const DOCS_DIR = join(PACKAGE_DIR, 'docs');

/** Whether this is a clone (its launcher installs and builds) rather than an installed package. */
export const IN_CLONE = existsSync(join(PACKAGE_DIR, 'scripts', 'setup'));

/** The package's version, from its package.json (dist/cli → the project's root). */
export function version(): string {
  return (
    JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
}
