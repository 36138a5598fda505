import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const STDIO = join(__dirname, '../../../dist/os/stdio.js');

/** A child that writes through the guarded streams, with its stdout and stderr as `shell` says. */
function child(shell: string): { status: number | null; stderr: string } {
  const prog = `
const s = require(${JSON.stringify(STDIO)});
s.guardStdio();
(async () => {
  for (let i = 0; i < 2000; i++) { s.stdout().write('x'.repeat(1000) + '\\n'); s.logLine('a diagnostic'); }
  await s.flushStdout();
  const f = s.stdoutFailure();
  process.stderr.write('');
  require('fs').writeSync(3, JSON.stringify(f));
})();`;
  const r = spawnSync('bash', ['-c', `exec 3>&1; ${shell}`, 'bash', process.execPath, prog], {
    encoding: 'utf8',
  });
  return { status: r.status, stderr: r.stdout };
}

describe('guarded standard streams', () => {
  it('a closed stdout is EPIPE: exit 141, no message; a closed stderr is dropped', () => {
    execFileSync('test', ['-f', STDIO]);
    const r = child('"$1" -e "$2" 2>&- | head -c 10 > /dev/null');
    expect(JSON.parse(r.stderr)).toEqual({ code: 141, message: '' });
  });

  it('a full disk is an error in one line, exit 1', () => {
    const r = child('"$1" -e "$2" > /dev/full 2> /dev/null');
    expect(JSON.parse(r.stderr)).toEqual({
      code: 1,
      message: 'pvlockfs: cannot write the output to standard output (ENOSPC)',
    });
  });

  it('everything written: no failure', () => {
    const r = child('"$1" -e "$2" > /dev/null 2>&1');
    expect(r.stderr).toBe('null');
  });
});
