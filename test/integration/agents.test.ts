import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cat, cleanupAll, Daemon, describeFuse, ensureCommand, ROOT, run, sh } from './harness';

const SCALARS = ['taken', 'taken_slow', 'released', 'time_spinning', 'time_blocked', 'time_total', 'timeout', 'zero_stats'];
const HISTOS = ['histo_total', 'histo_spinning', 'histo_blocked'];
const CHARTS_D = '/usr/lib/netdata/plugins.d/charts.d.plugin';

describeFuse('monitoring agents against a live mount', () => {
  let d: Daemon;
  let work: string;
  const missing: Record<string, string | null> = {};
  beforeAll(async () => {
    missing.collectd = await ensureCommand('collectd', 'collectd-core');
    missing.promtool = await ensureCommand('promtool', 'prometheus');
    missing.netdata = await ensureCommand(CHARTS_D, 'netdata-plugins-bash');
    d = await Daemon.start();
    work = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-agents-'));
    // Freeze the guest so that what the agents record can be compared with the files.
    await sh('sleep 0.5; echo 0 > "$1"', d.path('pvlockfs/running'));
  }, 400_000);
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
    if (work) await fsp.rm(work, { recursive: true, force: true });
  });

  // Only a missing /dev/fuse may skip a test: an agent that cannot be installed fails its test.
  it('collectd (table + csv plugins) records the counters and every histogram bucket as in the files', async () => {
    expect(missing.collectd, 'collectd must be installable from Debian').toBeNull();
    const conf = join(work, 'collectd.conf');
    const table = await run(join(ROOT, 'scripts', 'pvlockfs-collectd-conf'), [d.path('kvm/spinlocks')]);
    await fsp.writeFile(
      conf,
      `Hostname "pvlockfs"\nFQDNLookup false\nInterval 1\nBaseDir "${work}"\nPIDFile "${work}/collectd.pid"\nPluginDir "/usr/lib/collectd"\nTypesDB "/usr/share/collectd/types.db"\nLoadPlugin csv\n<Plugin csv>\n  DataDir "${work}/csv"\n  StoreRates false\n</Plugin>\n${table.stdout}`,
    );
    expect((await run('collectd', ['-t', '-C', conf])).code).toBe(0);
    const r = await run('timeout', ['-s', 'TERM', '3', 'collectd', '-f', '-C', conf], { timeoutMs: 20_000 });
    expect(r.stdout + r.stderr).not.toMatch(/Not enough columns|error/i);
    const dir = join(work, 'csv', 'pvlockfs', 'table-kvm_spinlocks');
    const last = async (prefix: string): Promise<string> => {
      const name = (await fsp.readdir(dir)).find((f) => f.startsWith(`${prefix}-2`));
      const lines = (await fsp.readFile(join(dir, name as string), 'utf8')).trim().split('\n');
      expect(lines[0]).toBe('epoch,value');
      return lines[lines.length - 1].split(',')[1];
    };
    for (const f of SCALARS) {
      const type = f === 'timeout' || f === 'zero_stats' ? 'gauge' : 'derive';
      expect(Number(await last(`${type}-${f}`)), f).toBe(Number(await cat(d.path(`kvm/spinlocks/${f}`))));
    }
    for (const h of HISTOS) {
      const buckets = (await cat(d.path(`kvm/spinlocks/${h}`))).trim().split(' ').map(Number);
      for (let i = 0; i < 31; i++) expect(Number(await last(`derive-${h}_b${String(i).padStart(2, '0')}`)), `${h}[${i}]`).toBe(buckets[i]);
    }
  });

  it('the textfile exporter passes promtool and agrees with the files', async () => {
    const out = join(work, 'kvm_spinlocks.prom');
    const r = await run(join(ROOT, 'scripts', 'pvlockfs-exporter'), [d.path('kvm/spinlocks'), out]);
    expect(r.code, r.stderr).toBe(0);
    const text = await fsp.readFile(out, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect((await fsp.readdir(work)).filter((f) => f.includes('.tmp.'))).toEqual([]);
    const metric = (name: string): number => Number(new RegExp(`^${name.replace(/[{}"+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(metric('kvm_spinlock_taken_total')).toBe(Number(await cat(d.path('kvm/spinlocks/taken'))));
    expect(metric('kvm_spinlock_taken_slow_total')).toBe(Number(await cat(d.path('kvm/spinlocks/taken_slow'))));
    const blocked = (await cat(d.path('kvm/spinlocks/histo_blocked'))).trim().split(' ').map(Number);
    const cum = (n: number): number => blocked.slice(0, n).reduce((a, b) => a + b, 0);
    expect(metric('kvm_spinlock_blocked_seconds_bucket{le="1.024e-06"}')).toBe(cum(10));
    expect(metric('kvm_spinlock_blocked_seconds_bucket{le="+Inf"}')).toBe(cum(31));
    expect(metric('kvm_spinlock_blocked_seconds_count')).toBe(cum(31));
    expect(metric('kvm_spinlock_blocked_seconds_sum')).toBeCloseTo(Number(await cat(d.path('kvm/spinlocks/time_blocked'))) / 1e9, 6);
    expect(missing.promtool, 'promtool must be installable from Debian').toBeNull();
    const check = await run('sh', ['-c', 'promtool check metrics < "$1"', 'sh', out]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });

  it('netdata charts.d (the real plugin) runs the recipe module: its charts, and values equal to the files', async () => {
    expect(missing.netdata, 'netdata-plugins-bash must be installable from Debian').toBeNull();
    // charts.d.plugin finds modules in ../charts.d beside itself and their settings in
    // $NETDATA_USER_CONFIG_DIR/charts.d: a scratch tree with links stands in for /usr/lib/netdata.
    const tree = join(work, 'netdata');
    for (const sub of ['plugins.d', 'charts.d', 'etc/charts.d']) await fsp.mkdir(join(tree, sub), { recursive: true });
    await fsp.symlink(CHARTS_D, join(tree, 'plugins.d', 'charts.d.plugin'));
    await fsp.symlink('/usr/lib/netdata/plugins.d/loopsleepms.sh.inc', join(tree, 'plugins.d', 'loopsleepms.sh.inc'));
    await fsp.symlink(join(ROOT, 'docs', 'recipes', 'kvm_spinlocks.chart.sh'), join(tree, 'charts.d', 'kvm_spinlocks.chart.sh'));
    await fsp.writeFile(join(tree, 'etc', 'charts.d', 'kvm_spinlocks.conf'), `kvm_spinlocks_dir=${d.path('kvm/spinlocks')}\n`);
    const r = await run('sh', ['-c', 'NETDATA_USER_CONFIG_DIR="$1/etc" timeout -s TERM 3 "$1/plugins.d/charts.d.plugin" 1 kvm_spinlocks', 'sh', tree], { timeoutMs: 20_000 });
    expect(r.stderr).not.toMatch(/ERROR|FATAL|loaded with errors/);
    const charts = r.stdout.split('\n').filter((l) => l.startsWith('CHART kvm_spinlocks.')).map((l) => l.split(' ')[1]);
    expect(charts).toEqual(['kvm_spinlocks.acquisitions', 'kvm_spinlocks.time', 'kvm_spinlocks.timeout', ...HISTOS.map((h) => `kvm_spinlocks.${h}`)]);
    expect(r.stdout).toMatch(/^DIMENSION b10 '1us' incremental 1 1$/m);
    // The last block of each chart (the guest is frozen: the files do not move).
    const last = (chart: string): Record<string, string> => {
      const blocks = r.stdout.split(`BEGIN kvm_spinlocks.${chart} `).slice(1);
      expect(blocks.length, chart).toBeGreaterThanOrEqual(2);
      const body = blocks[blocks.length - 1].split('\nEND')[0];
      return Object.fromEntries([...body.matchAll(/^SET (\w+) = (\S+)$/gm)].map((m) => [m[1], m[2]]));
    };
    for (const f of ['taken', 'taken_slow', 'released']) expect(last('acquisitions')[f], f).toBe((await cat(d.path(`kvm/spinlocks/${f}`))).trim());
    for (const f of ['time_spinning', 'time_blocked', 'time_total']) expect(last('time')[f], f).toBe((await cat(d.path(`kvm/spinlocks/${f}`))).trim());
    expect(last('timeout').timeout).toBe('1024');
    for (const h of HISTOS) {
      const buckets = (await cat(d.path(`kvm/spinlocks/${h}`))).trim().split(' ');
      expect(Object.values(last(h)), h).toEqual(buckets);
    }
  });

  it('Telegraf inputs.multifile: every file the recipe names parses the way multifile parses it', async () => {
    const recipe = await fsp.readFile(join(ROOT, 'docs', 'recipes', 'telegraf.conf'), 'utf8');
    const named = [...recipe.matchAll(/file = "(\w+)"\n\s+(?:dest = "\w+"\n\s+)?conversion = "int"/g)].map((m) => m[1]);
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
    const r = await run('sh', ['-c', 'cd /tmp && "$1" some/spinlocks', 'sh', join(ROOT, 'scripts', 'pvlockfs-collectd-conf')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/<Table "\/tmp\/some\/spinlocks\/taken">/);
  });

  it('still prints the section for a directory not mounted yet, with a warning on stderr', async () => {
    const r = await run(join(ROOT, 'scripts', 'pvlockfs-collectd-conf'), ['/nonexistent/kvm/spinlocks']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('pvlockfs-collectd-conf: warning: /nonexistent/kvm/spinlocks/histo_total is not readable now (not mounted yet, or not a kvm/spinlocks directory)\n');
    expect(r.stdout.match(/<Table /g)).toHaveLength(11);
  });
});
