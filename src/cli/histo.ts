import { readHisto } from '../app/histo';
import { RuntimeError } from '../app/errors';
import { histoSvg, histoText } from '../render/histo';
import { why } from '../os/errors';
import { OutFile } from '../os/out-file';
import { shownPath } from '../os/shown';
import { sayLine, stdout } from '../os/stdio';
import { nonEmptyArg, OptionSpec, parseArgv } from './args';

interface HistoOptions {
  svg: string | null;
}

/** The options of `pvlockfs histo`. */
export const HISTO_OPTIONS: readonly OptionSpec<HistoOptions>[] = [
  {
    flag: '--svg',
    arg: 'OUT',
    help: 'write an SVG chart to OUT instead of text bars',
    set: (o, v, f) => (o.svg = nonEmptyArg(f, v, 'an output file')),
  },
];

/** `pvlockfs histo FILE [--svg OUT]`. */
export async function histoCommand(argv: readonly string[]): Promise<number> {
  const o: HistoOptions = { svg: null };
  const [path] = parseArgv(
    'histo',
    HISTO_OPTIONS,
    { name: 'histogram file', min: 1, max: 1 },
    argv,
    o,
  );
  const out = o.svg;
  const counts = await readHisto(path);
  if (out) {
    let wrote: string;
    try {
      wrote = OutFile.write(out, '--svg', histoSvg(counts, path));
    } catch (e) {
      throw new RuntimeError(why(e));
    }
    sayLine(`pvlockfs: wrote ${shownPath(wrote)}`);
  } else stdout().write(histoText(counts, path));
  return 0;
}
