import { ChildProcess, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cat,
  cleanupAll,
  Daemon,
  describeFuse,
  chartsDTree,
  ensureCommand,
  ROOT,
  run,
  sh,
  waitFor,
} from './harness';

// What a real agent does with each fault (docs/faults.md, "What collectd sees"): collectd with
// the table plugin of pvlockfs-collectd-conf (counters as DERIVE) and the csv plugin storing
// rates, on a paused mount, so the counters move only when a fault or advance_ns moves them.
// Every wait is for collectd to have written more samples, never for a stretch of wall time.

/** Writes a control file of pvlockfs/fault/ as `echo` would (it must succeed). */
async function control(d: Daemon, file: string, value: string): Promise<void> {
  const r = await sh('printf "%s\\n" "$2" > "$1"', d.path(`pvlockfs/fault/${file}`), value);
  expect(r.code, `${file} = ${value}: ${r.stderr}`).toBe(0);
}

/** Steps a paused mount by `ns` simulated ns. */
async function advance(d: Daemon, ns: number): Promise<void> {
  const r = await sh(`echo ${ns} > "$1"`, d.path('pvlockfs/advance_ns'));
  expect(r.code, r.stderr).toBe(0);
}

/** One value's series as collectd's csv plugin wrote it: [epoch seconds, rate per second]. */
type Series = Array<[number, number]>;

describeFuse('collectd against injected faults', () => {
  let d: Daemon;
  let work: string;
  let collectd: ChildProcess | null = null;
  let log = '';
  let missing: string | null;

  const csvDir = (): string => join(work, 'csv', 'pvlockfs', 'table-kvm_spinlocks');
  async function series(name: string): Promise<Series> {
    const file = (await fsp.readdir(csvDir()).catch(() => [] as string[])).find((f) =>
      f.startsWith(`derive-${name}-2`),
    );
    if (file === undefined) return [];
    const lines = (await fsp.readFile(join(csvDir(), file), 'utf8')).trim().split('\n').slice(1);
    return lines.map((l) => l.split(',').map(Number) as [number, number]);
  }
  /** Waits until collectd has written `n` more samples of `name` than `before` holds. */
  async function more(name: string, before: Series, n: number, what: string): Promise<Series> {
    await waitFor(
      async () => (await series(name)).length >= before.length + n,
      60_000,
      `collectd to write ${n} more samples of ${name} (${what})`,
    );
    return (await series(name)).slice(before.length);
  }

  beforeAll(async () => {
    missing = await ensureCommand('collectd', 'collectd-core');
    work = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-agent-faults-'));
    d = await Daemon.start(['--paused', '--seed', '3']);
    await advance(d, 300e6);
    if (missing !== null) return;
    const table = await run(join(ROOT, 'scripts', 'pvlockfs-collectd-conf'), [
      d.path('kvm/spinlocks'),
    ]);
    const conf = join(work, 'collectd.conf');
    await fsp.writeFile(
      conf,
      `Hostname "pvlockfs"\nFQDNLookup false\nInterval 1\nBaseDir "${work}"\nPIDFile "${work}/collectd.pid"\nPluginDir "/usr/lib/collectd"\nTypesDB "/usr/share/collectd/types.db"\nLoadPlugin csv\n<Plugin csv>\n  DataDir "${work}/csv"\n  StoreRates true\n</Plugin>\n${table.stdout}`,
    );
    collectd = spawn('collectd', ['-f', '-C', conf], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    collectd.stdout?.on('data', (b: Buffer) => (log += b.toString()));
    collectd.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  }, 400_000);

  afterAll(async () => {
    if (collectd?.pid !== undefined && collectd.exitCode === null) {
      const exited = new Promise((r) => collectd?.on('exit', r));
      process.kill(-collectd.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (collectd.exitCode === null) process.kill(-collectd.pid, 'SIGKILL');
    }
    // A stall still held would keep collectd's read (and the unmount) waiting: release first.
    await sh('echo 1 > "$1"', d.path('pvlockfs/fault/stall/release'));
    expect(await d.stop()).toBe(0);
    expect(await cleanupAll()).toEqual([]);
    if (process.env.KEEP_AGENT_FAULTS !== '1') await fsp.rm(work, { recursive: true, force: true });
    else process.stderr.write(`kept ${work}\n`);
  });

  it('a u32 wrap: DERIVE (minimum 0 in types.db) turns the fall into NaN, a gap; the jump up to 2^32 − 3 is a +4.29e9/s spike', async () => {
    expect(missing, 'collectd must be installable from Debian').toBeNull();
    await more('taken_slow', [], 2, 'a first rate');
    await control(d, 'counters', 'wrap=3');
    const at = await more('taken_slow', await series('taken_slow'), 2, 'after the wrap event');
    expect(Math.max(...at.map((s) => s[1]))).toBeGreaterThan(4e9); // the jump to 2^32 − 3 itself
    await advance(d, 100e6); // more than 3 slow acquisitions: taken_slow wraps past 2^32
    expect(Number(await cat(d.path('kvm/spinlocks/taken_slow')))).toBeLessThan(1e6);
    const after = await more('taken_slow', await series('taken_slow'), 2, 'after the wrap');
    expect(after.some((s) => Number.isNaN(s[1]))).toBe(true);
  });

  it('a reset: one NaN sample (a gap), no negative rate', async () => {
    await advance(d, 100e6);
    const before = await more('released', await series('released'), 2, 'before the reset');
    await control(d, 'counters', 'reset');
    const after = await more('released', await series('released'), 2, 'after the reset');
    expect(before.every((s) => !(s[1] < 0))).toBe(true);
    expect(after.filter((s) => Number.isNaN(s[1]))).toHaveLength(1);
    expect(after.every((s) => !(s[1] < 0))).toBe(true);
  });

  it('a glitch of one read to 0: a NaN, then a spike of the whole counter per second', async () => {
    await advance(d, 100e6);
    await more('taken', await series('taken'), 2, 'before the glitch');
    const value = Number(await cat(d.path('kvm/spinlocks/taken')));
    await control(d, 'counters', 'glitch=1 files=kvm/spinlocks/taken');
    const after = await more('taken', await series('taken'), 3, 'after the glitch');
    const gap = after.findIndex((s) => Number.isNaN(s[1]));
    expect(gap).toBeGreaterThanOrEqual(0);
    // The next sample climbs from 0 back to the counter: its whole value in one interval (~1 s).
    const [t0, t1] = [after[gap][0], after[gap + 1][0]];
    expect(after[gap + 1][1] * (t1 - t0)).toBeCloseTo(value, -1);
  });

  it('EIO on one file: that value has a gap, the others go on; the log says why', async () => {
    await control(d, 'fail_read/files', 'kvm/spinlocks/taken');
    await control(d, 'fail_read/times', '-1');
    await control(d, 'fail_read/verbose', '0');
    await control(d, 'fail_read/probability', '100');
    const taken = await series('taken');
    await more('released', await series('released'), 3, 'while taken fails');
    expect((await series('taken')).length - taken.length).toBeLessThanOrEqual(1);
    expect(log).toMatch(/table plugin: Failed to read from file .*taken.*Input\/output error/);
    await control(d, 'fail_read/probability', '0');
    await more('taken', await series('taken'), 2, 'after the fault is disarmed');
  });

  it('a stall on one file holds every value of the table plugin until it is released', async () => {
    await control(d, 'stall/files', 'kvm/spinlocks/taken');
    await control(d, 'stall/hang', '1');
    await control(d, 'stall/times', '1');
    await control(d, 'stall/probability', '100');
    await waitFor(
      async () => (await cat(d.path('pvlockfs/fault/injected'))).includes('stall 1'),
      60_000,
      'collectd to read taken into the stall',
    );
    const held = (await series('released')).length;
    // Held for three of collectd's intervals: no new sample of any value but the one in flight
    // (a slow machine writes fewer, never more; the check cannot fail for lack of speed).
    await new Promise((r) => setTimeout(r, 3000));
    expect((await series('released')).length).toBeLessThanOrEqual(held + 1);
    // Meanwhile other readers are served: only the stalled read waits.
    expect(await cat(d.path('kvm/spinlocks/released'))).toMatch(/^\d+\n$/);
    await control(d, 'stall/release', '1');
    await more('released', (await series('released')).slice(0, held + 1), 2, 'after the release');
  });

  it('a reboot: every file fails while the directory is gone, then the zeroed counters give a NaN', async () => {
    await advance(d, 100e6);
    await more('released', await series('released'), 1, 'before the unload');
    await control(d, 'counters', 'unload');
    const logged = log.length;
    await waitFor(
      async () => /No such file or directory/.test(log.slice(logged)),
      60_000,
      'collectd to fail to read',
    );
    await control(d, 'counters', 'load');
    await advance(d, 10e6);
    const after = await more('released', await series('released'), 2, 'after the load');
    expect(after.some((s) => Number.isNaN(s[1]))).toBe(true);
  });
});

/**
 * Prometheus's counter semantics over a scraped series (a fall is a reset: the counter counted
 * from 0 again) — what `increase()` adds up when a range covers the series exactly.
 */
function promIncrease(v: readonly number[]): number {
  let sum = 0;
  for (let i = 1; i < v.length; i++) sum += v[i] >= v[i - 1] ? v[i] - v[i - 1] : v[i];
  return sum;
}

describeFuse(
  'Prometheus (the textfile exporter, and the PromQL engine of promtool) against injected faults',
  () => {
    let d: Daemon;
    let work: string;
    let missing: string | null;
    /** One scrape of the exporter: the counter's value. */
    const scrape = async (metric: string): Promise<number> => {
      const r = await run(join(ROOT, 'scripts', 'pvlockfs-exporter'), [d.path('kvm/spinlocks')]);
      expect(r.code, r.stderr).toBe(0);
      return Number(new RegExp(`^${metric} (\\S+)$`, 'm').exec(r.stdout)?.[1]);
    };
    /** Whether PromQL's increase() over the scrapes (15 s apart) is `expected`, by promtool. */
    const promqlIncrease = async (
      metric: string,
      values: number[],
      expected: number,
    ): Promise<string> => {
      const file = join(work, `${metric}.yml`);
      const end = 15 * (values.length - 1);
      await fsp.writeFile(
        file,
        `evaluation_interval: 15s\ntests:\n  - interval: 15s\n    input_series:\n      - series: '${metric}'\n        values: '${values.join(' ')}'\n    promql_expr_test:\n      - expr: increase(${metric}[${end}s])\n        eval_time: ${end}s\n        exp_samples:\n          - labels: '{}'\n            value: ${expected}\n`,
      );
      const r = await run('promtool', ['test', 'rules', file]);
      return r.code === 0 ? 'passed' : r.stdout + r.stderr;
    };

    beforeAll(async () => {
      missing = await ensureCommand('promtool', 'prometheus');
      work = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-prom-faults-'));
      d = await Daemon.start(['--paused', '--seed', '5']);
      await advance(d, 100e6);
    }, 400_000);
    afterAll(async () => {
      expect(await d.stop()).toBe(0);
      expect(await cleanupAll()).toEqual([]);
      await fsp.rm(work, { recursive: true, force: true });
    });

    it('a one-read glitch to 0 is taken for a reset: increase() counts the whole counter once more', async () => {
      expect(missing, 'promtool must be installable from Debian').toBeNull();
      const m = 'kvm_spinlock_taken_total';
      const v = [await scrape(m)];
      await advance(d, 50e6);
      v.push(await scrape(m));
      await control(d, 'counters', 'glitch=1 files=kvm/spinlocks/taken');
      v.push(await scrape(m));
      for (let i = 0; i < 2; i++) {
        await advance(d, 50e6);
        v.push(await scrape(m));
      }
      expect(v[2]).toBe(0);
      const counted = promIncrease(v);
      expect(await promqlIncrease(m, v, counted)).toBe('passed');
      // The true increase is v4 − v0; PromQL adds the value before the glitch on top.
      expect(counted - (v[4] - v[0])).toBe(v[1]);
    });

    it('a reset is a reset: increase() stays right', async () => {
      const m = 'kvm_spinlock_released_total';
      const v = [await scrape(m)];
      await advance(d, 50e6);
      v.push(await scrape(m));
      await control(d, 'counters', 'reset');
      for (let i = 0; i < 3; i++) {
        await advance(d, 50e6);
        v.push(await scrape(m));
      }
      const counted = promIncrease(v);
      expect(await promqlIncrease(m, v, counted)).toBe('passed');
      expect(counted).toBe(v[1] - v[0] + v[4]);
    });

    it('a u32 wrap is taken for a reset: increase() misses the increments before 2^32', async () => {
      const m = 'kvm_spinlock_taken_slow_total';
      await control(d, 'counters', 'wrap=3');
      const v = [await scrape(m)];
      expect(v[0]).toBe(2 ** 32 - 3);
      await advance(d, 100e6);
      v.push(await scrape(m));
      expect(v[1]).toBeLessThan(1e6);
      const counted = promIncrease(v);
      expect(await promqlIncrease(m, v, counted)).toBe('passed');
      // It really went up by 3 + v1; PromQL sees a reset and counts v1.
      expect(counted).toBe(v[1]);
    });

    it('EIO on one file: the exporter installs nothing (exit 1), so the previous file is served on', async () => {
      const out = join(work, 'kvm_spinlocks.prom');
      const exporter = join(ROOT, 'scripts', 'pvlockfs-exporter');
      expect((await run(exporter, [d.path('kvm/spinlocks'), out])).code).toBe(0);
      const before = await fsp.readFile(out, 'utf8');
      await control(d, 'fail_read/files', 'kvm/spinlocks/histo_blocked');
      await control(d, 'fail_read/verbose', '0');
      await control(d, 'fail_read/probability', '100');
      await advance(d, 50e6);
      const r = await run(exporter, [d.path('kvm/spinlocks'), out]);
      expect([r.code, r.stderr]).toEqual([
        1,
        expect.stringMatching(/Input\/output error[^]*reading .* failed: nothing installed\n$/),
      ]);
      expect(await fsp.readFile(out, 'utf8')).toBe(before);
      await control(d, 'fail_read/probability', '0');
    });

    it('a stall on one file: the exporter waits in its read, and installs the file once released', async () => {
      const out = join(work, 'stalled.prom');
      await control(d, 'stall/files', 'kvm/spinlocks/histo_spinning');
      await control(d, 'stall/hang', '1');
      await control(d, 'stall/verbose', '0');
      await control(d, 'stall/probability', '100');
      const exporter = spawn(
        join(ROOT, 'scripts', 'pvlockfs-exporter'),
        [d.path('kvm/spinlocks'), out],
        {
          stdio: 'ignore',
        },
      );
      const exited = new Promise<number | null>((r) => exporter.on('exit', (c) => r(c)));
      try {
        await waitFor(
          async () => (await cat(d.path('pvlockfs/fault/injected'))).includes('stall 1'),
          60_000,
          'the exporter to read histo_spinning into the stall',
        );
        // Held in its read: it has not exited and has installed nothing.
        expect(exporter.exitCode).toBeNull();
        expect(await fsp.readdir(work)).not.toContain('stalled.prom');
        await control(d, 'stall/release', '1');
        expect(await exited).toBe(0);
        expect(await fsp.readFile(out, 'utf8')).toMatch(/^kvm_spinlock_taken_total \d+$/m);
      } finally {
        if (exporter.exitCode === null) exporter.kill('SIGKILL');
        await control(d, 'stall/probability', '0');
      }
    });

    it('an unload: the exporter refuses the directory (exit 1); after the load, a reset that increase() gets right', async () => {
      const m = 'kvm_spinlock_taken_total';
      const v = [await scrape(m)];
      await control(d, 'counters', 'unload');
      const r = await run(join(ROOT, 'scripts', 'pvlockfs-exporter'), [d.path('kvm/spinlocks')]);
      expect([r.code, r.stderr]).toEqual([
        1,
        expect.stringMatching(/taken: cannot be read|cannot read .*taken/),
      ]);
      await control(d, 'counters', 'load');
      for (let i = 0; i < 2; i++) {
        await advance(d, 50e6);
        v.push(await scrape(m));
      }
      const counted = promIncrease(v);
      expect(await promqlIncrease(m, v, counted)).toBe('passed');
      expect(counted).toBe(v[2]);
    });
  },
);

/** One dimension's points as netdata stores them: [epoch seconds, value per second]. */
type Points = Array<[number, number]>;

describeFuse('netdata (the daemon, with the charts.d recipe) against injected faults', () => {
  let d: Daemon;
  let work: string;
  let netdata: ChildProcess | null = null;
  let port = 0;
  let missing: string | null;
  let out = '';

  /** The points of `dim` in kvm_spinlocks.acquisitions, oldest first, from `afterEpoch` on. */
  async function points(dim: string, afterEpoch: number): Promise<Points> {
    return (await stored(dim, afterEpoch)).filter((p): p is [number, number] => p[1] !== null);
  }
  /** The same with the seconds netdata has no value for (null). */
  async function stored(dim: string, afterEpoch: number): Promise<Array<[number, number | null]>> {
    const url = `http://127.0.0.1:${port}/api/v1/data?chart=kvm_spinlocks.acquisitions&dimension=${dim}&after=${afterEpoch}&format=json&options=seconds`;
    const res = await fetch(url).catch(() => null);
    if (res === null || !res.ok) return [];
    const body = (await res.json()) as { data: Array<[number, number | null]> };
    return body.data.sort((a, b) => a[0] - b[0]);
  }
  /** Waits until netdata has stored points of `dim` at least `n` seconds after `epoch`. */
  async function until(dim: string, epoch: number, n: number, what: string): Promise<Points> {
    await waitFor(
      async () => (await points(dim, epoch)).some((p) => p[0] >= epoch + n),
      60_000,
      `netdata to store ${dim} ${n} s after ${what}`,
    );
    return points(dim, epoch);
  }
  const now = (): number => Math.floor(Date.now() / 1000);
  const netdataLog = async (): Promise<string> =>
    out + (await fsp.readFile(join(work, 'log', 'error.log'), 'utf8').catch(() => ''));
  /** How many rounds charts.d has said the module failed. */
  const failures = async (): Promise<number> =>
    ((await netdataLog()).match(/update\(\) function reports failure\. Will keep trying/g) ?? [])
      .length;

  beforeAll(async () => {
    missing = await ensureCommand('netdata', 'netdata-core');
    work = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-netdata-faults-'));
    d = await Daemon.start(['--paused', '--seed', '3']);
    await advance(d, 200e6);
    if (missing !== null) return;
    await chartsDTree(work, d.path('kvm/spinlocks'));
    for (const sub of ['log', 'cache', 'lib'])
      await fsp.mkdir(join(work, sub), { recursive: true });
    // A port of its own on the loopback only, picked from this test's pid.
    port = 20000 + (process.pid % 20000);
    const conf = join(work, 'netdata.conf');
    await fsp.writeFile(
      conf,
      `[global]\n  run as user = root\n  hostname = pvlockfs\n[db]\n  mode = ram\n  update every = 1\n[directories]\n  config = ${work}/etc\n  stock config = ${work}/etc\n  plugins = ${work}/plugins.d\n  log = ${work}/log\n  cache = ${work}/cache\n  lib = ${work}/lib\n  home = ${work}\n[logs]\n  access = none\n  debug = none\n  error = ${work}/log/error.log\n[web]\n  bind to = 127.0.0.1:${port}\n[plugins]\n  enable running new plugins = no\n  charts.d = yes\n  proc = no\n  diskspace = no\n  cgroups = no\n  tc = no\n  idlejitter = no\n  timex = no\n  checks = no\n  apps = no\n  python.d = no\n  go.d = no\n  ebpf = no\n  statsd = no\n  netdata monitoring = no\n[health]\n  enabled = no\n[ml]\n  enabled = no\n[registry]\n  enabled = no\n[global statistics]\n  enabled = no\n`,
    );
    netdata = spawn('netdata', ['-D', '-c', conf, '-P', join(work, 'netdata.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    netdata.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    netdata.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    await until('taken', now(), 1, 'its start');
  }, 400_000);

  afterAll(async () => {
    if (netdata?.pid !== undefined && netdata.exitCode === null) {
      const exited = new Promise((r) => netdata?.on('exit', r));
      process.kill(-netdata.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (netdata.exitCode === null) process.kill(-netdata.pid, 'SIGKILL');
    }
    expect(await d.stop()).toBe(0);
    expect(await cleanupAll()).toEqual([]);
    await fsp.rm(work, { recursive: true, force: true });
  });

  it('a reset is stored as 0: no spike, no negative value', async () => {
    expect(missing, 'netdata-core must be installable from Debian').toBeNull();
    const t = now() + 1;
    await control(d, 'counters', 'reset');
    const after = await until('released', t, 3, 'the reset');
    expect(
      after.every((p) => p[1] === 0),
      JSON.stringify(after),
    ).toBe(true);
  });

  it('a one-read glitch to 0: the climb back is a spike of the whole counter', async () => {
    await advance(d, 100e6);
    const value = Number(await cat(d.path('kvm/spinlocks/taken')));
    await until('taken', now(), 2, 'the step');
    const t = now() + 1;
    await control(d, 'counters', 'glitch=1 files=kvm/spinlocks/taken');
    const after = await until('taken', t, 3, 'the glitch');
    const total = after.reduce((s, p) => s + p[1], 0);
    expect(total / value, JSON.stringify(after)).toBeGreaterThan(0.9);
    expect(total / value).toBeLessThan(1.1);
  });

  it('a u32 wrap is counted right (netdata detects the 32-bit overflow)', async () => {
    const e = now();
    await control(d, 'counters', 'wrap=3');
    // The jump to 2^32 − 3 (a spike of its own) is stored before the window below starts.
    // The jump is stored as a spike (spread over the seconds since the previous collection):
    // wait until it has been stored and two quiet seconds have followed it.
    let jumpEnd = 0;
    await waitFor(
      async () => {
        const pts = await points('taken_slow', e);
        const big = pts.filter((p) => p[1] > 1e6);
        if (big.length === 0) return false;
        jumpEnd = big[big.length - 1][0];
        return pts.filter((p) => p[0] > jumpEnd && p[1] === 0).length >= 2;
      },
      60_000,
      'netdata to store the jump to 2^32 − 3 and two quiet seconds after it',
    );
    // From the second before the advance on, the window holds all of its increase (netdata
    // spreads it over the seconds since the last collection) and none of the jump.
    const a = Math.max(now() - 1, jumpEnd + 1);
    await advance(d, 100e6);
    const wrapped = Number(await cat(d.path('kvm/spinlocks/taken_slow')));
    expect(wrapped).toBeLessThan(1e6);
    const after = await until('taken_slow', a, 4, 'the wrap');
    const total = after.reduce((sum, p) => sum + p[1], 0);
    // Up by 3 to 2^32 and on to the value read: about wrapped + 3, never 4e9.
    expect(Math.max(...after.map((p) => p[1])), JSON.stringify(after)).toBeLessThan(1e6);
    expect(total / (wrapped + 3), JSON.stringify(after)).toBeGreaterThan(0.9);
    expect(total / (wrapped + 3)).toBeLessThan(1.1);
  });

  it('a stall on one file: netdata stores nothing (null) for every chart of the module while it is held', async () => {
    await control(d, 'stall/files', 'kvm/spinlocks/histo_blocked');
    await control(d, 'stall/hang', '1');
    await control(d, 'stall/verbose', '0');
    await control(d, 'stall/times', '1');
    await control(d, 'stall/probability', '100');
    await waitFor(
      async () => (await cat(d.path('pvlockfs/fault/injected'))).includes('stall 1'),
      60_000,
      'charts.d to read histo_blocked into the stall',
    );
    const held = now();
    // Held for four of netdata's seconds (a slower machine holds it longer, never shorter).
    await new Promise((r) => setTimeout(r, 4000));
    await control(d, 'stall/release', '1');
    await until('released', held, 6, 'the release');
    // The round the stall caught had sent its first charts already: from the next second on, none.
    const during = (await stored('released', held + 2)).filter((p) => p[0] <= held + 3);
    expect(during.length).toBeGreaterThan(0);
    expect(
      during.every((p) => p[1] === null),
      JSON.stringify(during),
    ).toBe(true);
  });

  it('an unload and a load: rounds fail while the directory is gone, then the zeroed counters are stored as 0', async () => {
    const before = await failures();
    await control(d, 'counters', 'unload');
    await waitFor(async () => (await failures()) > before, 60_000, 'charts.d to fail a round');
    const t = now();
    await control(d, 'counters', 'load');
    const after = await until('released', t, 4, 'the load');
    expect(
      after.every((p) => p[1] === 0),
      JSON.stringify(after),
    ).toBe(true);
  });

  it('EIO on one file for one read: the whole module fails that round, and charts.d says so', async () => {
    await control(d, 'fail_read/files', 'kvm/spinlocks/histo_blocked');
    await control(d, 'fail_read/verbose', '0');
    await control(d, 'fail_read/times', '1');
    const before = await failures();
    await control(d, 'fail_read/probability', '100');
    await waitFor(
      async () => (await failures()) > before,
      60_000,
      "charts.d to report the module's failed round",
    );
    expect(await cat(d.path('pvlockfs/fault/fail_read/times'))).toBe('0\n');
  });

  it('EIO on one file for good: after 10 failed rounds charts.d disables the module until netdata restarts', async () => {
    await control(d, 'fail_read/files', 'kvm/spinlocks/histo_blocked');
    await control(d, 'fail_read/times', '-1');
    await control(d, 'fail_read/probability', '100');
    await waitFor(
      async () =>
        /update\(\) function reported failure 11 times\. Disabling it\./.test(await netdataLog()),
      60_000,
      'charts.d to disable the module',
    );
    await control(d, 'fail_read/probability', '0');
  });
});
