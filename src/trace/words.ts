import { Doing } from '../sim/acts';
import { TaskKind } from '../sim/task';
import { LEAVE_NAMES, Mark } from '../sim/trace';
import type { LeftShown, TaskShown, VcpuShown } from './event';

/** What a timeline calls each mark (the compiler checks every mark has a name). */
export const MARK_NAME = {
  [Mark.HolderPreempted]: 'holder preempted',
  [Mark.GrantToPreempted]: 'granted while preempted',
  [Mark.Kick]: 'kick',
  [Mark.PleExit]: 'PLE exit',
  [Mark.DirectedYield]: 'directed yield',
  [Mark.Shootdown]: 'TLB shootdown',
  [Mark.RemoteFlush]: 'remote TLB flush',
} as const satisfies Record<Mark, string>;

/** The marks' names, in `Mark` order. */
export const MARK_NAMES: readonly (typeof MARK_NAME)[Mark][] = Object.values(MARK_NAME);

/** What a window counted of each mark, by name (a trace's `otherData.marks`). */
export type MarkCounts = Record<(typeof MARK_NAMES)[number], number>;

/** The words of each thing a vCPU does (the compiler checks every one has them). */
const DOING_WORD = {
  [Doing.User]: 'user',
  [Doing.Kernel]: 'kernel',
  [Doing.Yield]: 'yield hypercall',
  [Doing.Halted]: 'halted',
  [Doing.Blocked]: 'blocked',
  [Doing.Spin]: 'spin',
} as const satisfies Record<Doing, string>;

/** A task's name on a pCPU track (a vCPU of one of several guests is named after its guest). */
export function taskWord(t: TaskShown, guestNames: readonly string[]): string {
  if (t.kind === TaskKind.Vcpu)
    return guestNames.length > 1 ? `${guestNames[t.guest]} vCPU ${t.index}` : `vCPU ${t.index}`;
  return t.kind === TaskKind.Hog ? `hog ${t.index}` : 'host work';
}

/** A vCPU track's state in words: what it does (on which lock), or that it is preempted so. */
export function stateWord(s: VcpuShown): string {
  const doing = `${DOING_WORD[s.doing]}${s.lock >= 0 ? ` L${s.lock}` : ''}`;
  return s.preempted ? `preempted (${doing})` : doing;
}

/** Why a task left its pCPU, in words. */
export function leftWord(l: LeftShown): string {
  return typeof l === 'string' ? l : LEAVE_NAMES[l];
}

/** A knob write's instant. */
export function knobWord(file: string): string {
  return file === 'zero_stats' ? 'zero_stats applied' : `${file} written`;
}
