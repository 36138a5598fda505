import { runHeadless } from '../app/headless';
import { runPlan, scriptGuests } from '../app/plan';
import type { Progress } from '../app/progress';
import { loadScript } from '../app/script';
import { reportTrace } from '../app/windows';
import { OutFile } from '../os/out-file';
import type { Options } from './options';

/** `pvlockfs run`: prints JSON, or `path:content` lines as `grep -r .` on the mount would. */
export async function runCommand(
  o: Options,
  write: (s: string) => void,
  progress?: Progress,
): Promise<number> {
  const plan = runPlan(o.sim, o.layout, o.guests);
  const actions = o.script === null ? [] : await loadScript(o.script, o.layout, scriptGuests(plan));
  // An output that will be refused is refused now, not after the run.
  if (o.trace.file !== null) OutFile.open(o.trace.file, '--trace').abort();
  if (o.trace.svg !== null) OutFile.open(o.trace.svg, '--trace-svg').abort();
  const { result, windows } = runHeadless(plan, o, progress, actions);
  // A trace file that could not be written does not lose the run's result: it is printed, and
  // the command then exits 1 (the reason is on stderr already).
  let status = 0;
  for (const w of windows) if (!reportTrace(w)) status = 1;
  if (o.json) {
    write(`${JSON.stringify(result)}\n`);
    return status;
  }
  // Named guests: each guest's files under its name, as `grep -r .` in the mount's root shows.
  const roots: [string, Record<string, string>][] = plan.named
    ? Object.entries(result.guests as Record<string, { files: Record<string, string> }>).map(
        ([name, g]) => [`${name}/`, g.files],
      )
    : [['', result.files as Record<string, string>]];
  for (const [prefix, files] of roots)
    for (const [path, text] of Object.entries(files)) {
      for (const line of text.split('\n').slice(0, -1)) write(`${prefix}${path}:${line}\n`);
    }
  return status;
}
