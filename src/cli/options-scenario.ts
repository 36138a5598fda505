import { intArg, nonEmptyArg } from './args';
import { durationText, parseBounded, parseFrom } from '../app/duration';
import { GUEST_KEYS, parseGuest } from './guests';
import type { OptionRow, Tracked } from './options';
import {
  defaultTrace,
  SVG_FOR_MAX_NS,
  TRACE_FOR_MAX_NS,
  TRACE_FROM_NS,
  TRACE_MAX_MB,
} from '../app/windows';

const BOTH = ['run', 'mount'] as const;

/**
 * The options of `run` and `mount` for what the thread left open and for looking inside: several
 * guests, the yield reclaim, solutions (b) and (c), and the timeline recorder.
 */
export const SCENARIO_OPTION_SPECS: readonly OptionRow[] = [
  {
    flag: '--preempt-hints',
    help: "solution (b): a lock holder's flag makes the host defer its preemption (--param hintMaxDeferNs, 50 µs)",
    commands: BOTH,
    set: (o) => (o.sim.preemptHints = true),
  },
  {
    flag: '--run-state',
    help: 'solution (c): pv spinners stop spinning when the holder (ticket: or the next in line) is preempted',
    commands: BOTH,
    set: (o) => (o.sim.runState = true),
  },
  {
    flag: '--guest',
    arg: 'NAME:KEY=VALUE,…',
    help: `several guests on one host (repeatable), each in its own CFS group; keys ${GUEST_KEYS.join(', ')} (weight: cpu.shares, 1024); the other options are every guest's defaults`,
    commands: BOTH,
    set: (o, v, f) => o.guests.push(parseGuest(f, v)),
  },
  {
    flag: '--yield-reclaim',
    help: "host option: a task's yield keeps the rest of its slice as credit for when it next runs (Srivatsa's proposal)",
    commands: BOTH,
    set: (o) => (o.sim.yieldReclaim = true),
  },
  {
    flag: '--trace',
    arg: 'FILE',
    help: 'write a timeline of every pCPU, vCPU and lock as Trace Event JSON (ui.perfetto.dev opens it)',
    commands: ['run'],
    set: (o, v, f) => (o.trace.file = nonEmptyArg(f, v, 'a file')),
  },
  {
    flag: '--trace-from',
    arg: 'DURATION',
    help: `the timeline starts at this simulated time (default ${durationText(TRACE_FROM_NS)}, past the start-up; 0 in a shorter run), or 'busiest': the window with the most holder preemptions (a first run finds it)`,
    commands: ['run'],
    set: (o, v, f) => {
      if (v.trim() === 'busiest') o.trace.busiest = true;
      else o.trace.fromNs = parseFrom(f, v);
      (o as Tracked).traceWindowSet = f;
      (o as Tracked).traceFromSet = true;
    },
  },
  {
    flag: '--trace-for',
    arg: 'DURATION',
    help: `simulated time the JSON timeline covers (default ${durationText(defaultTrace().forNs)}, at most ${durationText(TRACE_FOR_MAX_NS)})`,
    commands: ['run'],
    set: (o, v, f) => {
      o.trace.forNs = parseBounded(f, v, TRACE_FOR_MAX_NS);
      (o as Tracked).traceWindowSet = f;
    },
  },
  {
    flag: '--trace-max-mb',
    arg: 'N',
    help: `stop the JSON timeline when it reaches N MB (default ${TRACE_MAX_MB}); the file stays valid`,
    commands: BOTH,
    set: (o, v, f) => {
      o.trace.maxBytes = intArg(f, v, 1, 65536) * 1e6;
      (o as Tracked).traceWindowSet = f;
    },
  },
  {
    flag: '--trace-dir',
    arg: 'DIR',
    help: 'where echo N > pvlockfs/trace_ns records N simulated ns of timeline (default: the working directory)',
    commands: ['mount'],
    set: (o, v, f) => (o.traceDir = nonEmptyArg(f, v, 'a directory')),
  },
  {
    flag: '--trace-svg',
    arg: 'FILE',
    help: 'draw a short window of the timeline as an SVG picture',
    commands: ['run'],
    set: (o, v, f) => (o.trace.svg = nonEmptyArg(f, v, 'a file')),
  },
  {
    flag: '--trace-svg-for',
    arg: 'DURATION',
    help: `simulated time the SVG covers (default ${durationText(defaultTrace().svgForNs)}, at most ${durationText(SVG_FOR_MAX_NS)})`,
    commands: ['run'],
    set: (o, v, f) => {
      o.trace.svgForNs = parseBounded(f, v, SVG_FOR_MAX_NS);
      (o as Tracked).traceWindowSet = f;
    },
  },
];
