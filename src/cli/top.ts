import { errnoOf } from '../app/errors';
import { controlDirOf, readSample, spinlocksDir } from '../app/top';
import { renderFrame } from '../render/top';
import { why } from '../os/errors';
import { shownPath } from '../os/shown';
import { logLine, stdout } from '../os/stdio';

/** `pvlockfs top [DIR]`: refreshes every second until `q` (or Ctrl-C). */
export async function topCommand(dir: string): Promise<number> {
  const sl = await spinlocksDir(dir);
  const control = await controlDirOf(sl);
  let prev = await readSample(sl, Date.now(), control);
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  return new Promise<number>((resolve) => {
    let stopped = false;
    const stop = (code: number): void => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (tty) stdin.setRawMode(false);
      stdin.pause();
      stdout().write('\x1b[?25h\n');
      resolve(code);
    };
    const tick = async (): Promise<void> => {
      try {
        const cur = await readSample(sl, Date.now(), control);
        if (stopped) return;
        stdout().write(`\x1b[H\x1b[2J\x1b[?25l${renderFrame(sl, prev, cur).join('\n')}`, () => {
          // A reader that went away (`top | head`) ends top quietly, as a pipe's writer should.
          if (stdout().failed !== '') stop(0);
        });
        prev = cur;
      } catch (e) {
        if (stopped) return;
        stop(1);
        const code = errnoOf(e);
        const gone = code === 'ENOENT' || code === 'ENOTCONN' || code === 'ECONNABORTED';
        logLine(
          gone
            ? `pvlockfs top: ${shownPath(sl)} went away (${code}): the guest was unmounted or its daemon stopped`
            : `pvlockfs top: cannot read ${shownPath(sl)}: ${why(e)}`,
        );
      }
    };
    const timer = setInterval(() => void tick(), 1000);
    if (tty) stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', (b: Buffer) => {
      const k = b.toString();
      if (k === 'q' || k === 'Q' || k === '\x03') stop(0);
    });
    stdin.on('end', () => undefined);
    process.on('SIGINT', () => stop(0));
    process.on('SIGTERM', () => stop(0));
  });
}
