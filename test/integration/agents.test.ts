import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cat,
  cleanupAll,
  Daemon,
  describeFuse,
  chartsDTree,
  ensureCommand,
  ROOT,
  run,
  runUntil,
  sh,
} from './harness';

const SCALARS = [
  'taken',
  'taken_slow',
  'released',
  'time_spinning',
  'time_blocked',
  'time_total',
  'timeout',
  'zero_stats',
];
const HISTOS = ['histo_total', 'histo_spinning', 'histo_blocked'];
const CHARTS_D = '/usr/lib/netdata/plugins.d/charts.d.plugin';
const HOSTILE = 'guest "q\\b $(touch PWNED) `touch PWNED`';

describeFuse('monitoring agents against a live mount', () => {
  let d: Daemon;
  let work: string;
  const missing: Record<string, string | null> = {};
  beforeAll(async () => {
    missing.collectd = await ensureCommand('collectd', 'collectd-core');
    missing.promtool = await ensureCommand('promtool', 'prometheus');
    missing.netdata = await ensureCommand(CHARTS_D, 'netdata-plugins-bash');
    work = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-agents-'));
    // Every agent reads the guest through a mount point whose name a shell or a configuration
    // file would misread: quotes, a backslash, $(), backquotes and spaces.
    await fsp.mkdir(join(work, HOSTILE));
    d = await Daemon.start([], join(work, HOSTILE), work);
    // Freeze the guest so that what the agents record can be compared with the files.
    await sh('sleep 0.5; echo 0 > "$1"', d.path('pvlockfs/running'));
  }, 400_000);
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
    // Nothing of the mount point's name ran anywhere: no agent, recipe or daemon made PWNED.
    expect(await fsp.readdir(work)).not.toContain('PWNED');
    if (work) await fsp.rm(work, { recursive: true, force: true });
  });

  // Only a missing /dev/fuse may skip a test: an agent that cannot be installed fails its test.
  it('collectd (table + csv plugins) records the counters and every histogram bucket as in the files', async () => {
    expect(missing.collectd, 'collectd must be installable from Debian').toBeNull();
    const conf = join(work, 'collectd.conf');
    const table = await run(join(ROOT, 'scripts', 'pvlockfs-collectd-conf'), [
      d.path('kvm/spinlocks'),
    ]);
    await fsp.writeFile(
      conf,
      `Hostname "pvlockfs"\nFQDNLookup false\nInterval 1\nBaseDir "${work}"\nPIDFile "${work}/collectd.pid"\nPluginDir "/usr/lib/collectd"\nTypesDB "/usr/share/collectd/types.db"\nLoadPlugin csv\n<Plugin csv>\n  DataDir "${work}/csv"\n  StoreRates false\n</Plugin>\n${table.stdout}`,
    );
    expect(table.stdout.match(/^LoadPlugin /gm)).toEqual(['LoadPlugin ']);
    expect((await run('collectd', ['-t', '-C', conf])).code).toBe(0);
    const dir = join(work, 'csv', 'pvlockfs', 'table-kvm_spinlocks');
    // collectd runs until every value has been written at least once (the guest is frozen).
    const wanted = SCALARS.length + HISTOS.length * 31;
    const written = async (): Promise<boolean> => {
      const names = await fsp.readdir(dir).catch(() => [] as string[]);
      if (names.length < wanted) return false;
      const texts = await Promise.all(names.map((n) => fsp.readFile(join(dir, n), 'utf8')));
      return texts.every((t) => t.trim().split('\n').length >= 2);
    };
    const r = await runUntil(
      'collectd',
      ['-f', '-C', conf],
      written,
      60_000,
      `collectd to write all ${wanted} values into ${dir}`,
    );
    expect(r.stdout + r.stderr).not.toMatch(/Not enough columns|error/i);
    const last = async (prefix: string): Promise<string> => {
      const name = (await fsp.readdir(dir)).find((f) => f.startsWith(`${prefix}-2`));
      const lines = (await fsp.readFile(join(dir, name as string), 'utf8')).trim().split('\n');
      expect(lines[0]).toBe('epoch,value');
      return lines[lines.length - 1].split(',')[1];
    };
    for (const f of SCALARS) {
      const type = f === 'timeout' || f === 'zero_stats' ? 'gauge' : 'derive';
      expect(Number(await last(`${type}-${f}`)), f).toBe(
        Number(await cat(d.path(`kvm/spinlocks/${f}`))),
      );
    }
    for (const h of HISTOS) {
      const buckets = (await cat(d.path(`kvm/spinlocks/${h}`))).trim().split(' ').map(Number);
      for (let i = 0; i < 31; i++)
        expect(Number(await last(`derive-${h}_b${String(i).padStart(2, '0')}`)), `${h}[${i}]`).toBe(
          buckets[i],
        );
    }
  });

  it('the textfile exporter passes promtool and agrees with the files', async () => {
    const out = join(work, 'kvm_spinlocks.prom');
    const r = await run(join(ROOT, 'scripts', 'pvlockfs-exporter'), [d.path('kvm/spinlocks'), out]);
    expect(r.code, r.stderr).toBe(0);
    const text = await fsp.readFile(out, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect((await fsp.readdir(work)).filter((f) => f.includes('.tmp.'))).toEqual([]);
    const metric = (name: string): number =>
      Number(new RegExp(`^${name.replace(/[{}"+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(metric('kvm_spinlock_taken_total')).toBe(
      Number(await cat(d.path('kvm/spinlocks/taken'))),
    );
    expect(metric('kvm_spinlock_taken_slow_total')).toBe(
      Number(await cat(d.path('kvm/spinlocks/taken_slow'))),
    );
    const blocked = (await cat(d.path('kvm/spinlocks/histo_blocked')))
      .trim()
      .split(' ')
      .map(Number);
    const cum = (n: number): number => blocked.slice(0, n).reduce((a, b) => a + b, 0);
    expect(metric('kvm_spinlock_blocked_seconds_bucket{le="1.024e-06"}')).toBe(cum(10));
    expect(metric('kvm_spinlock_blocked_seconds_bucket{le="+Inf"}')).toBe(cum(31));
    expect(metric('kvm_spinlock_blocked_seconds_count')).toBe(cum(31));
    expect(metric('kvm_spinlock_blocked_seconds_sum')).toBeCloseTo(
      Number(await cat(d.path('kvm/spinlocks/time_blocked'))) / 1e9,
      6,
    );
    expect(missing.promtool, 'promtool must be installable from Debian').toBeNull();
    const check = await run('sh', ['-c', 'promtool check metrics < "$1"', 'sh', out]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });

  it('netdata charts.d (the real plugin) runs the recipe module: its charts, and values equal to the files', async () => {
    expect(missing.netdata, 'netdata-plugins-bash must be installable from Debian').toBeNull();
    const tree = join(work, 'netdata');
    await chartsDTree(tree, d.path('kvm/spinlocks'));
    // The plugin runs until every chart has sent two update rounds (the last one is compared).
    const rounds = (out: string): boolean =>
      ['acquisitions', 'time', 'timeout', ...HISTOS].every(
        (c) => out.split(`BEGIN kvm_spinlocks.${c} `).length > 3,
      );
    const r = await runUntil(
      join(tree, 'plugins.d', 'charts.d.plugin'),
      ['1', 'kvm_spinlocks'],
      rounds,
      60_000,
      'charts.d to send two rounds of every chart',
      { ...process.env, NETDATA_USER_CONFIG_DIR: join(tree, 'etc') },
    );
    expect(r.stderr).not.toMatch(/ERROR|FATAL|loaded with errors/);
    const charts = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('CHART kvm_spinlocks.'))
      .map((l) => l.split(' ')[1]);
    expect(charts).toEqual([
      'kvm_spinlocks.acquisitions',
      'kvm_spinlocks.time',
      'kvm_spinlocks.timeout',
      ...HISTOS.map((h) => `kvm_spinlocks.${h}`),
    ]);
    expect(r.stdout).toMatch(/^DIMENSION b10 '1us' incremental 1 1$/m);
    // The last block of each chart (the guest is frozen: the files do not move).
    const last = (chart: string): Record<string, string> => {
      // Complete blocks only: the plugin was stopped wherever it was.
      const blocks = r.stdout
        .split(`BEGIN kvm_spinlocks.${chart} `)
        .slice(1)
        .filter((b) => b.includes('\nEND'));
      expect(blocks.length, chart).toBeGreaterThanOrEqual(2);
      const body = blocks[blocks.length - 1].split('\nEND')[0];
      return Object.fromEntries(
        [...body.matchAll(/^SET (\w+) = (\S+)$/gm)].map((m) => [m[1], m[2]]),
      );
    };
    for (const f of ['taken', 'taken_slow', 'released'])
      expect(last('acquisitions')[f], f).toBe((await cat(d.path(`kvm/spinlocks/${f}`))).trim());
    for (const f of ['time_spinning', 'time_blocked', 'time_total'])
      expect(last('time')[f], f).toBe((await cat(d.path(`kvm/spinlocks/${f}`))).trim());
    expect(last('timeout').timeout).toBe('1024');
    for (const h of HISTOS) {
      const buckets = (await cat(d.path(`kvm/spinlocks/${h}`))).trim().split(' ');
      expect(Object.values(last(h)), h).toEqual(buckets);
    }
  });

  it('Telegraf inputs.multifile: every file the recipe names parses the way multifile parses it', async () => {
    const recipe = await fsp.readFile(join(ROOT, 'docs', 'recipes', 'telegraf.conf'), 'utf8');
    const named = [
      ...recipe.matchAll(/file = "(\w+)"\n\s+(?:dest = "\w+"\n\s+)?conversion = "int"/g),
    ].map((m) => m[1]);
    expect(named.sort()).toEqual([...SCALARS].sort());
    for (const f of named) {
      // multifile: read the whole file, strip NUL bytes and surrounding white space, ParseInt.
      const raw = await cat(d.path(`kvm/spinlocks/${f}`));
      const text = raw.replace(/\0/g, '').trim();
      expect(text, f).toMatch(/^\d+$/);
      expect(BigInt(text)).toBeGreaterThanOrEqual(0n);
    }
    // A histogram is not an integer: multifile's int conversion would fail on it, hence inputs.exec.
    expect((await cat(d.path('kvm/spinlocks/histo_total'))).trim()).toMatch(/^\d+( \d+){30}$/);
  });
});

describe('pvlockfs-collectd-conf without a mount', () => {
  it('makes a relative directory absolute (collectd would read it from its own working directory)', async () => {
    const r = await run('sh', [
      '-c',
      'cd /tmp && "$1" some/spinlocks',
      'sh',
      join(ROOT, 'scripts', 'pvlockfs-collectd-conf'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/<Table "\/tmp\/some\/spinlocks\/taken">/);
  });

  it('still prints the section for a directory not mounted yet, with a warning on stderr', async () => {
    const r = await run(join(ROOT, 'scripts', 'pvlockfs-collectd-conf'), [
      '/nonexistent/kvm/spinlocks',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'pvlockfs-collectd-conf: warning: /nonexistent/kvm/spinlocks/histo_total is not readable now (not mounted yet, or not a kvm/spinlocks directory)\n',
    );
    expect(r.stdout.match(/<Table /g)).toHaveLength(11);
  });
});

/** A directory laid out like kvm/spinlocks with plain files (no mount needed). */
async function fakeSpinlocks(dir: string, overrides: Record<string, string> = {}): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  for (const f of SCALARS) await fsp.writeFile(join(dir, f), overrides[f] ?? '5\n');
  for (const h of HISTOS)
    await fsp.writeFile(
      join(dir, h),
      overrides[h] ?? `${Array.from({ length: 31 }, (_, i) => i).join(' ')}\n`,
    );
}

describe('the recipes cannot be turned against root (hardening)', () => {
  let work: string;
  beforeAll(async () => {
    work = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-recipes-'));
  });
  afterAll(async () => {
    await fsp.rm(work, { recursive: true, force: true });
  });
  const exporter = join(ROOT, 'scripts', 'pvlockfs-exporter');
  const collectdConf = join(ROOT, 'scripts', 'pvlockfs-collectd-conf');

  it('pvlockfs-exporter does not follow a symlink planted at the old temporary name', async () => {
    const src = join(work, 'sl-ok');
    await fakeSpinlocks(src);
    const victim = join(work, 'victim');
    await fsp.writeFile(victim, 'precious\n');
    const out = join(work, 'out.prom');
    // `exec` keeps the shell's pid, so "$$" here is the pid the exporter runs as.
    const r = await run('sh', [
      '-c',
      'ln -s "$3" "$2.tmp.$$" && exec "$1" "$4" "$2"',
      'sh',
      exporter,
      out,
      victim,
      src,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(await fsp.readFile(victim, 'utf8')).toBe('precious\n');
    expect(await fsp.readFile(out, 'utf8')).toMatch(/^kvm_spinlock_taken_total 5$/m);
    expect((await fsp.stat(out)).mode & 0o777).toBe(0o644);
    // Only the planted link is left beside the output: the exporter's own temporary file is gone.
    expect(
      (await fsp.readdir(work))
        .filter((n) => n.startsWith('out.prom') || n.startsWith('.out.prom'))
        .sort(),
    ).toEqual(['out.prom', expect.stringMatching(/^out\.prom\.tmp\.\d+$/)]);
  });

  it.each([
    ['an empty file (a guest that went away mid-read)', { taken: '' }],
    ['a file that is not a number', { released: 'garbage\n' }],
    ['a histogram with too few buckets', { histo_total: '1 2 3\n' }],
  ])('pvlockfs-exporter keeps the previous file and exits 1 on %s', async (_what, overrides) => {
    const good = join(work, 'sl-good');
    const bad = join(work, `sl-bad-${Object.keys(overrides)[0]}`);
    await fakeSpinlocks(good);
    await fakeSpinlocks(bad, overrides);
    const out = join(work, 'keep.prom');
    expect((await run(exporter, [good, out])).code).toBe(0);
    const before = await fsp.readFile(out, 'utf8');
    const r = await run(exporter, [bad, out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^pvlockfs-exporter: .+: (cannot be read|is not a number or a list of numbers|is not a 31-bucket histogram)\n$/,
    );
    expect(await fsp.readFile(out, 'utf8')).toBe(before);
    expect((await fsp.readdir(work)).filter((n) => n.startsWith('.keep.prom'))).toEqual([]);
  });

  it('pvlockfs-exporter reads a directory whose name holds backslashes and quotes as it is', async () => {
    const src = join(work, 'a\\tb "c" \\n');
    await fakeSpinlocks(src, { taken: '77\n' });
    const r = await run(exporter, [src]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^kvm_spinlock_taken_total 77$/m);
  });

  it('pvlockfs-collectd-conf escapes quotes and backslashes (one LoadPlugin; collectd itself reads such a path in the live test above) and refuses control characters', async () => {
    const dir = join(work, 'x" \\n  LoadPlugin "exec\\');
    const r = await run(collectdConf, [dir]);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^LoadPlugin /gm)).toEqual(['LoadPlugin ']);
    expect(r.stdout).toContain(
      `<Table "${dir.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}/taken">`,
    );
    for (const bad of [
      join(work, 'new\nLoadPlugin exec'),
      join(work, 'tab\there'),
      join(work, 'cr\r'),
    ]) {
      const refused = await run(collectdConf, [bad]);
      expect(refused.code, JSON.stringify(bad)).toBe(2);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(/refusing a directory name with a control character/);
    }
  });
});
