import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAUNCHER, ROOT, run } from './harness';

interface RunJson {
  seed: number;
  sim_time_ns: number;
  wall_ms: number;
  files: Record<string, string>;
  vcpus: Record<string, number>[];
  job: Record<string, unknown>;
  locks: Record<string, number>;
}

async function runJson(...args: string[]): Promise<{ text: string; json: RunJson }> {
  const r = await run(LAUNCHER, ['run', '--json', ...args], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`run ${args.join(' ')}: ${r.stderr}`);
  return { text: r.stdout, json: JSON.parse(r.stdout) as RunJson };
}

const withoutWall = (text: string): string => text.replace(/"wall_ms":[0-9.]+/, '"wall_ms":0');

describe('pvlockfs run (headless)', () => {
  it('same seed + config ⇒ byte-identical JSON apart from wall_ms; another seed differs', async () => {
    const [a, b, c] = await Promise.all([
      runJson('--sim-time', '1s'),
      runJson('--sim-time', '1s'),
      runJson('--sim-time', '1s', '--seed', '1'),
    ]);
    expect(withoutWall(a.text)).toBe(withoutWall(b.text));
    expect(a.json.files['kvm/spinlocks/taken']).not.toBe(c.json.files['kvm/spinlocks/taken']);
    expect(Object.keys(a.json.files)).toHaveLength(11);
    expect(a.json.vcpus).toHaveLength(4);
    expect(a.json.sim_time_ns).toBe(1e9);
  });

  it('prints path:content lines like grep -r . on the mount', async () => {
    const r = await run(LAUNCHER, ['run', '--sim-time', '200ms']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[1]).toBe('kvm/spinlocks/timeout:1024');
    expect(lines[8]).toMatch(/^kvm\/spinlocks\/histo_total:\d+( \d+){30}$/);
  });

  it('ticket: the guest runs but every file stays zero (no KVM_FEATURE_YIELD)', async () => {
    const { json } = await runJson('--lock', 'ticket', '--sim-time', '1s');
    expect(json.locks.acquisitions).toBeGreaterThan(10_000);
    for (const [path, text] of Object.entries(json.files)) {
      if (path.endsWith('timeout')) expect(text).toBe('1024\n');
      else
        expect(
          text
            .trim()
            .split(' ')
            .every((x) => x === '0'),
        ).toBe(true);
    }
  });

  it('--timeout 4294967295 keeps taken_slow at 0', async () => {
    const { json } = await runJson('--timeout', '4294967295', '--sim-time', '2s');
    expect(json.files['kvm/spinlocks/taken_slow']).toBe('0\n');
    expect(Number(json.files['kvm/spinlocks/taken'])).toBeGreaterThan(10_000);
  });

  it.each(['A', 'B', 'C'])(
    'pinning %s at 2x: pv-yield does more guest work per simulated second than ticket',
    async (p) => {
      const [pv, ticket] = await Promise.all([
        runJson('--pinning', p, '--sim-time', '5s'),
        runJson('--pinning', p, '--lock', 'ticket', '--sim-time', '5s'),
      ]);
      expect(pv.json.job.work_per_sim_s as number).toBeGreaterThan(
        ticket.json.job.work_per_sim_s as number,
      );
    },
  );

  it.each(['A', 'B', 'C'])(
    'pinning %s at 2x: ticket convoys form and dissolve, none lasting the whole run',
    async (p) => {
      const { json } = await runJson('--pinning', p, '--lock', 'ticket', '--sim-time', '5s');
      expect(json.locks.convoy_episodes).toBeGreaterThan(0);
      expect(json.locks.convoy_episodes_closed).toBeGreaterThan(0);
      expect(json.locks.convoy_max_ns).toBeLessThan(json.sim_time_ns);
      expect(json.locks.grants_to_preempted_waiters).toBeGreaterThan(0);
    },
  );

  it.each(['B', 'C'])(
    "pinning %s: granting only to running waiters lowers the ticket lock's loss",
    async (p) => {
      const [pv, ticket, ablated] = await Promise.all([
        runJson('--pinning', p, '--sim-time', '5s'),
        runJson('--pinning', p, '--lock', 'ticket', '--sim-time', '5s'),
        runJson('--pinning', p, '--lock', 'ticket', '--grant-only-to-running', '--sim-time', '5s'),
      ]);
      const w = (x: { json: RunJson }): number => x.json.job.work_per_sim_s as number;
      const loss = (x: { json: RunJson }): number => (w(pv) - w(x)) / w(pv);
      expect(loss(ablated)).toBeLessThan(loss(ticket));
      expect(ablated.json.locks.grants_to_preempted_waiters).toBe(0);
    },
  );

  it('--work runs one job: completion time, or did_not_finish at the --sim-time cap', async () => {
    const done = await runJson('--work', '200ms', '--sim-time', '10s');
    expect(done.json.job.finished).toBe(true);
    expect((done.json.job.completion_ns as number[])[0]).toBe(done.json.sim_time_ns);
    const capped = await runJson('--work', '100s', '--sim-time', '100ms');
    expect(capped.json.job.did_not_finish).toBe(true);
  });

  it('help exits 0 and documents every option; no command is a usage error', async () => {
    const h = await run(LAUNCHER, ['help']);
    expect(h.code).toBe(0);
    for (const f of [
      '--seed',
      '--vcpus',
      '--pcpus',
      '--overcommit',
      '--hogs',
      '--pinning',
      '--lock',
      '--timeout',
      '--sim-time',
      '--json',
      '--abi',
      '--speed',
    ]) {
      expect(h.stdout).toContain(f);
    }
    expect((await run(LAUNCHER, [])).code).toBe(2);
    expect((await run(LAUNCHER, ['frob'])).code).toBe(2);
  });

  it.each(['version', '--version', '-V'])(
    '%s prints the package version and exits 0',
    async (arg) => {
      const pkg = JSON.parse(await fsp.readFile(join(ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };
      const r = await run(LAUNCHER, [arg]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`pvlockfs ${pkg.version}\n`);
    },
  );
});
