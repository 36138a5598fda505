import { GUEST_PID, HOST_PID, TimelineEvent } from './event';
import { knobWord, leftWord, MARK_NAME, stateWord, taskWord } from './words';

/** One event in the Trace Event Format's terms (time still in simulated ns). */
export interface TefEvent {
  ph: 'B' | 'E' | 'b' | 'e' | 'i' | 'C' | 'M';
  cat?: string;
  name: string;
  id?: number;
  s?: 't' | 'g';
  ts: number;
  pid: number;
  tid: number;
  args?: Record<string, string | number | boolean>;
}

/**
 * A timeline event as the Trace Event Format has it: spans (`B`/`E`) per pCPU and vCPU track,
 * lock holds as async spans (`b`/`e`, by number), instants (`i`) and counters (`C`), named in
 * words. Guest g's tracks are process GUEST_PID + g; `guestNames` name several guests' vCPUs.
 */
export function toTef(e: TimelineEvent, guestNames: readonly string[]): TefEvent {
  switch (e.kind) {
    case 'meta': {
      const args: Record<string, string | number> =
        typeof e.value === 'string' ? { name: e.value } : { sort_index: e.value };
      return { ph: 'M', name: e.name, ts: 0, pid: e.pid, tid: e.tid, args };
    }
    case 'cpu-begin':
      return { ph: 'B', name: taskWord(e.task, guestNames), ts: e.ts, pid: HOST_PID, tid: e.cpu };
    case 'cpu-end': {
      const name = taskWord(e.task, guestNames);
      const args = e.left === undefined ? undefined : { left: leftWord(e.left) };
      return { ph: 'E', name, ts: e.ts, pid: HOST_PID, tid: e.cpu, args };
    }
    case 'vcpu-begin':
    case 'vcpu-end': {
      const ph = e.kind === 'vcpu-begin' ? 'B' : 'E';
      return { ph, name: stateWord(e.state), ts: e.ts, pid: GUEST_PID + e.guest, tid: e.vcpu };
    }
    case 'hold-begin':
    case 'hold-end': {
      const ph = e.kind === 'hold-begin' ? 'b' : 'e';
      const args = e.granted
        ? { granted_while_preempted: true }
        : e.when !== undefined
          ? { [e.when]: true }
          : undefined;
      const name = `hold L${e.lock}`;
      return {
        ph,
        cat: 'lock',
        name,
        id: e.id,
        ts: e.ts,
        pid: GUEST_PID + e.guest,
        tid: e.vcpu,
        args,
      };
    }
    case 'mark': {
      const args: Record<string, number> = {};
      if (e.lock >= 0) args.lock = e.lock;
      if (e.to >= 0) args.to = e.to;
      const pid = GUEST_PID + e.guest;
      return { ph: 'i', s: 't', name: MARK_NAME[e.mark], ts: e.ts, pid, tid: e.vcpu, args };
    }
    case 'knob': {
      const args = e.value === null ? undefined : { file: e.file, value: e.value.toString() };
      return { ph: 'i', s: 'g', name: knobWord(e.file), ts: e.ts, pid: HOST_PID, tid: 0, args };
    }
    case 'runnable':
      return {
        ph: 'C',
        name: `runnable pCPU ${e.cpu}`,
        ts: e.ts,
        pid: HOST_PID,
        tid: 0,
        args: { tasks: e.tasks },
      };
    case 'waiters':
      return {
        ph: 'C',
        name: `waiters L${e.lock}`,
        ts: e.ts,
        pid: GUEST_PID + e.guest,
        tid: 0,
        args: { vCPUs: e.vcpus },
      };
  }
}
