import { OptionHelp, optionLines, parseArgv } from './args';
import { EXPERIMENT_OPTIONS } from './experiment-options';
import { defaultConfig } from '../sim/config';

/** The waiters that make a convoy (the model's default). */
const CONVOY_WAITERS = defaultConfig().convoyMinWaiters;
import { HISTO_OPTIONS } from './histo';
import { Command, OPTION_SPECS, parseOptions } from './options';
import { progressReporter } from './progress';
import { stderr, stdout } from '../os/stdio';
import { shown, shownPath } from '../os/shown';
import { DOCS_DIR, IN_CLONE } from './version';
import { UsageError } from '../app/errors';

/** What a command's handler gets: its arguments (after the command's name). */
export type Handler = (argv: readonly string[]) => Promise<number>;

/** One command: how it is called, what it does, its options, and its handler. */
export interface CommandSpec {
  /** `pvlockfs NAME …`, as the usage shows it. */
  usage: string;
  /** One line: what it does. */
  summary: string;
  /** Its options (help lists each). */
  options: readonly OptionHelp[];
  /** Paragraphs of help beside the options (what it prints, where to read more). */
  details: string;
  run: Handler;
}

/** The options a `run` or `mount` takes (each row says which commands take it). */
function modelOptions(command: Command): readonly OptionHelp[] {
  return OPTION_SPECS.filter((s) => s.commands.includes(command));
}

/** The commands' names, in the order help lists them. */
export const COMMAND_NAMES = [
  'mount',
  'run',
  'experiment',
  'top',
  'histo',
  'help',
  'version',
] as const;

/** A command's name. */
export type CommandName = (typeof COMMAND_NAMES)[number];

/**
 * Every command, declared once: dispatch, `pvlockfs help` and each `pvlockfs COMMAND --help` are
 * derived from this table (a test checks that every option appears in both).
 */
export const COMMANDS = {
  mount: {
    usage: 'pvlockfs mount [MOUNTPOINT] [options]',
    summary: 'mount the running guest (default ./mount); Ctrl-C unmounts',
    options: modelOptions('mount'),
    details:
      'The guest runs on the wall clock (--speed), or stopped with --paused and stepped by echo N > pvlockfs/advance_ns. SIGINT, SIGTERM and SIGHUP unmount; SIGUSR2 prints diagnostics.',
    run: async (argv) => {
      const o = parseOptions('mount', argv);
      if (o.background) return (await import('./background')).mountInBackground(argv);
      return (await import('./mount')).mountCommand(o);
    },
  },
  run: {
    usage: 'pvlockfs run [options]',
    summary: 'simulate headless and print the files (or --json)',
    options: modelOptions('run'),
    details:
      "Prints path:content lines as grep -r . on the mount would (each file: docs/debugfs.md), or with --json one object: seed, config, sim_time_ns, events, wall_ms, files (every file's content), vcpus (per vCPU: the five categories running_ns, spinning_ns, blocked_in_yield_ns, halted_ns, runnable_waiting_ns, which sum to sim_time_ns; overhead_ns, part of them; spinning_holder_preempted_ns and in_yield_holder_preempted_ns, the parts of spinning and yielding spent while the lock's holder was preempted; cpu_share, acquisitions, slow_paths, preempted_holding, migrations, lock-wait quantiles), job and locks (the guest's totals; holder_preempted_waste_share is the spinning on preempted holders over the vCPUs' CPU time). Every field: docs/model.md, Instruments.",
    run: async (argv) =>
      (await import('./run')).runCommand(
        parseOptions('run', argv),
        (s) => stdout().write(s),
        progressReporter('run', stderr(), 5000, undefined, 'simulated s'),
      ),
  },
  experiment: {
    usage: 'pvlockfs experiment [options]',
    summary:
      "reproduce the RFC's results table (or --table long2015|collapse2012, --ablation NAME)",
    options: EXPERIMENT_OPTIONS,
    details: `Runs the matrix of scenarios × overcommits × locks on worker threads and prints the RFC-format table, the targets, and every cell; --out DIR writes report.md, results.json and charts.

Scenarios (the RFC's pinning of 4 vCPUs on 4 pCPUs): A, vCPU i pinned to pCPU i; B, nothing pinned; C, every vCPU on pCPUs 2 and 3 (one package), with a share of the hogs (--c-hog-share, 0.4) pinned to that package and the rest free. Nx is the overcommit: (hogs + vCPUs) / pCPUs = N, so 4(N−1) CPU hogs.

The RFC table, per overcommit: W/o patch (sd), W/ patch (sd): the ticket lock's and pv-yield's mean completion time of the job, in the RFC's seconds (simulated seconds × the scale factor, so that pv-yield's A-1x lasts what the RFC measured; a subset of cells still runs A-1x pv-yield for the scale), and their standard deviation over the repetitions; Diff: (W/o − W/) / W/o; paired sd: the spread of the per-seed Diff; pv first: seeds where pv-yield finished first, of all; RFC W/o, W/ patch, Diff: the RFC's numbers; resid.: Diff minus the RFC's, in percentage points; T/T_A1 base, pv: each lock's time over its own A-1x time, simulated/RFC.

The cells table: cell (scenario-overcommit), lock; mean_s, sd: as above; DNF: runs that reached --cap before the job finished; cpu_share: the share of simulated time the guest's vCPUs held a pCPU (mean over the vCPUs; in brackets, vCPU min–max: the lowest and the highest single vCPU's); spin: the share of that CPU time spent spinning on locks; lhp: the part of spin spent while the lock's holder (or the waiter it was handed to) was preempted — the CPU that lock-holder preemption wastes; wait p99.9 / max: the time from a lock's first attempt to owning it, over all acquisitions (most find the lock free: lower quantiles are the uncontended cost); grants_to_preempted: ticket hand-offs to a waiter that was not running, per run; convoys (longest): episodes with ${CONVOY_WAITERS} or more vCPUs waiting on one lock, per run, and the longest. Every number is a mean over the repetitions; --json gives them unrounded.

--named adds a line per named experiment: [shown] or [NOT shown], its name and the effect it looks for, then the numbers it found.

--table long2015: lock, vCPUs (the guest's, on a 32-pCPU host); simulated s: the job's completion time; ratio: over pv-ticket's at that size; paper s, paper ratio: Waiman Long's 2015 numbers; then per column each lock's margin over pv-ticket beside the paper's, and why a ranking differs. --table collapse2012: per curve of the 2012 paper (serial section in cycles, its share of one core), the paper's measured peak (cores, speedup), then for the Markov model and each simulated lock the peak's core count (speedup over one lone core) → the first core count below ¾ of the peak's speedup (— none) and the speedup at 48 cores; then a line per curve saying where the ticket lock peaks against the paper's peak and whether it collapses. --ablation NAME: per cell the Difference (as above) without and with the mechanism, the change in percentage points, and the RFC's; then the MAE of Difference, the cells pv-yield wins and the largest T_k/T_1 errors (each lock's time at overcommit k over its 1x time in the same scenario), without and with it.`,
    run: async (argv) => {
      const { experimentCommand, parseExperiment } = await import('./experiment');
      return experimentCommand(parseExperiment(argv));
    },
  },
  top: {
    usage: 'pvlockfs top [DIR]',
    summary: "live view of DIR's kvm/ or xen/spinlocks (default ./mount); q quits",
    options: [],
    details:
      "DIR is a pvlockfs mount, a debugfs root such as /sys/kernel/debug, or a spinlocks directory; with several guests, one guest's directory (MOUNT/NAME).\n\nThe screen, refreshed every second: taken, slow, released: the counters (taken_slow is slow), with their rate per wall second; mean per sample this interval: the new time_spinning, time_blocked and time_total over the new samples in histo_spinning, histo_blocked and histo_total; knobs: the timeout and zero_stats files; on a pvlockfs mount, simulated: its pvlockfs/sim_time_ns, hogs: pvlockfs/hogs, spinning on preempted holders: pvlockfs/holder_preempted_ns (the vCPUs' spinning while the lock's holder was preempted) per simulated second of the interval. The table: a row per log2 bucket (the label is its lower edge; several buckets a row when they do not fit), and for each histogram the samples added per wall second, as a bar and a number.",
    run: async (argv) => {
      const [dir] = parseArgv('top', [], { name: 'directory', min: 0, max: 1 }, argv, {});
      return (await import('./top')).topCommand(dir ?? './mount');
    },
  },
  histo: {
    usage: 'pvlockfs histo FILE [--svg OUT]',
    summary: 'one histogram file as labelled text bars, or an SVG',
    options: HISTO_OPTIONS,
    details:
      "FILE is one of the 31-bucket log2 histograms (histo_total, histo_spinning, histo_blocked). A row per bucket: its number i, its lower edge 2^i ns, a bar as long as its count over the largest, and the count; bucket 30 (≥1.07 s) also holds the kernel's 0-ns samples. --svg draws the same as a bar chart.",
    run: async (argv) => (await import('./histo')).histoCommand(argv),
  },
  help: {
    usage: 'pvlockfs help [COMMAND|params]',
    summary: "this text, one command's, or every --param key",
    options: [],
    details: "'pvlockfs help params' lists every model parameter with its default, range and unit.",
    run: async (argv) => {
      if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) argv = ['help'];
      const [name] = parseArgv('help', [], { name: 'command', min: 0, max: 1 }, argv, {});
      if (name === 'params') {
        stdout().write(`${(await import('./params-help')).paramsHelp()}\n`);
        return 0;
      }
      stdout().write(`${name === undefined ? usage() : commandHelp(commandNamed(name))}\n`);
      return 0;
    },
  },
  version: {
    usage: 'pvlockfs version',
    summary: 'the version (also --version)',
    options: [],
    details: '',
    run: async (argv) => {
      parseArgv('version', [], { name: 'arguments', min: 0, max: 0 }, argv, {});
      stdout().write(`pvlockfs ${(await import('./version')).version()}\n`);
      return 0;
    },
  },
} satisfies Record<CommandName, CommandSpec>;

/** The command of that name (an unknown one is a usage error naming the commands). */
export function commandNamed(name: string): CommandName {
  if ((COMMAND_NAMES as readonly string[]).includes(name)) return name as CommandName;
  throw new UsageError(
    `unknown command '${shown(name)}' (expected ${COMMAND_NAMES.slice(0, -1).join(', ')} or ${COMMAND_NAMES[COMMAND_NAMES.length - 1]})`,
  );
}

/** Where the documents named docs/… are (help and reports name them so). */
const DOCS_LINE = `The documents named docs/… are in ${shownPath(DOCS_DIR)}.\nThe Prometheus exporter and the collectd generator: ${IN_CLONE ? 'scripts/pvlockfs-exporter and\nscripts/pvlockfs-collectd-conf (installed: on PATH without scripts/)' : 'pvlockfs-exporter and\npvlockfs-collectd-conf'}; each takes --help.`;

/** Paragraphs (blank-line separated) wrapped at 96 columns, for a terminal. */
function wrap(text: string, width = 96): string {
  return text
    .split('\n\n')
    .map((para) => {
      const lines: string[] = [];
      let line = '';
      for (const word of para.split(/\s+/)) {
        if (line !== '' && line.length + 1 + word.length > width) {
          lines.push(line);
          line = word;
        } else line = line === '' ? word : `${line} ${word}`;
      }
      return [...lines, line].join('\n');
    })
    .join('\n\n');
}

/** One command's help: usage, what it does, its options. */
export function commandHelp(name: CommandName): string {
  const c: CommandSpec = COMMANDS[name];
  const opts = c.options.length > 0 ? `\n\nOptions:\n${optionLines(c.options, 30)}` : '';
  return `Usage: ${c.usage}\n\n${c.summary}.${c.details ? `\n\n${wrap(c.details)}` : ''}${opts}\n\nExit status: 0 success, 1 runtime failure, 2 bad usage; 141 when the reader of the output went away.\n${DOCS_LINE}`;
}

/** `pvlockfs help`: every command, then each command's options. */
export function usage(): string {
  const lines = COMMAND_NAMES.map(
    (n) => `  ${COMMANDS[n].usage.padEnd(40)} ${COMMANDS[n].summary}`,
  );
  const sections = COMMAND_NAMES.filter((n) => COMMANDS[n].options.length > 0).map(
    (n) => `Options for ${n}:\n${optionLines(COMMANDS[n].options, 30)}`,
  );
  return `pvlockfs — a KVM guest's debugfs kvm/spinlocks/, live over FUSE, fed by a deterministic
simulation of lock-holder preemption on an overcommitted host.

Usage:
${lines.join('\n')}

${sections.join('\n\n')}

'pvlockfs COMMAND --help' shows one command. Exit status: 0 success, 1 runtime failure, 2 bad
usage; 141 when the reader of the output went away.
${DOCS_LINE}`;
}
