import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cat,
  cleanupAll,
  Daemon,
  describeFuse,
  ensureCommand,
  isMounted,
  ROOT,
  run,
  waitFor,
  writeSpinlocks,
} from './harness';

const AS_NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];
/** The environment of a machine where pvlockfs was installed with npm: nothing of the clone's. */
const cleanEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.LD_LIBRARY_PATH;
  delete env.LD_PRELOAD;
  return env;
};

describeFuse('a real package: npm pack, npm install -g, and the installed pvlockfs', () => {
  let base: string;
  let tarball: string;
  let prefix: string;
  let bin: string;
  beforeAll(async () => {
    base = await fsp.mkdtemp(join(tmpdir(), 'pvlockfs-package-'));
    await fsp.chmod(base, 0o755);
    // Packed from a copy of the project, so that prepack's build does not rewrite the dist/ that
    // the other tests are running from.
    const copy = join(base, 'src-copy');
    await fsp.mkdir(copy);
    for (const p of [
      'bin',
      'src',
      'scripts',
      'docs',
      'native',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'README.md',
    ]) {
      const r = await run('cp', ['-a', join(ROOT, p), join(copy, p)]);
      if (r.code !== 0) throw new Error(`cp ${p}: ${r.stderr}`);
    }
    await fsp.symlink(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    const pack = await run('npm', ['pack', '--pack-destination', base], {
      cwd: copy,
      timeoutMs: 180_000,
      env: cleanEnv(),
    });
    if (pack.code !== 0) throw new Error(`npm pack: ${pack.stderr}`);
    tarball = join(base, pack.stdout.trim().split('\n').pop() as string);
    prefix = join(base, 'prefix');
    const install = await run(
      'npm',
      ['install', '-g', '--prefix', prefix, tarball, '--no-audit', '--no-fund'],
      { cwd: base, timeoutMs: 300_000, env: cleanEnv() },
    );
    if (install.code !== 0) throw new Error(`npm install -g: ${install.stderr}`);
    bin = join(prefix, 'bin', 'pvlockfs');
    await run('chmod', ['-R', 'a+rX', base]);
  }, 600_000);
  afterAll(async () => {
    expect(await cleanupAll()).toEqual([]);
    await fsp.rm(base, { recursive: true, force: true });
  });

  it('the tarball holds the build, the launcher and the recipes; no tests, sources or development scripts', async () => {
    const list = (await run('tar', ['tzf', tarball])).stdout
      .split('\n')
      .filter(Boolean)
      .map((p) => p.replace(/^package\//, ''));
    expect(list).toContain('bin/pvlockfs');
    expect(list).toContain('dist/cli/main.js');
    expect(list).toContain('dist/app/experiment/worker.js');
    expect(list).toContain('scripts/pvlockfs-exporter');
    expect(list).toContain('docs/recipes/incident.script');
    expect(list).toContain('docs/model.md');
    expect(list).toContain('scripts/pvlockfs-collectd-conf');
    expect(list).toContain('scripts/build-binding');
    expect(list).toContain('native/fuse-native.patch');
    expect(
      list.filter((p) =>
        /^(test|src)\/|^scripts\/(setup|test|bench|env\.sh|pvlockfs$)|^\.ci\//.test(p),
      ),
    ).toEqual([]);
  });

  it('from outside the clone, the installed pvlockfs mounts (libfuse from the package), serves a file and unmounts', async () => {
    const d = await Daemon.start([], undefined, base, bin, cleanEnv());
    expect(await cat(d.path('kvm/spinlocks/timeout'))).toBe('1024\n');
    expect(await d.stop()).toBe(0);
    expect(await isMounted(d.mnt)).toBe(false);
    expect(d.output).not.toMatch(/installing|building|npm/);
    // The install built the patched binding (the mount names fuse-native's own only when used).
    expect(d.output).not.toMatch(/as shipped/);
  });

  it.each([
    ['version', ['version'], /^pvlockfs 0\.1\.0\n$/],
    ['help', ['help'], /Usage:/],
    ['run', ['run', '--sim-time', '5ms'], /^kvm\/spinlocks\/taken:\d+$/m],
    [
      'experiment',
      [
        'experiment',
        '--scenarios',
        'A',
        '--overcommit',
        '1',
        '--reps',
        '1',
        '--work',
        '1ms',
        '--jobs',
        '1',
      ],
      /Difference/,
    ],
    ['histo', ['histo', 'HISTO'], /all 31 buckets are 0/],
  ])('pvlockfs %s works for nobody', async (_name, args, out) => {
    const histo = join(base, 'histo_total');
    await fsp.writeFile(histo, `${Array(31).fill(0).join(' ')}\n`);
    await fsp.chmod(histo, 0o644);
    const argv = args.map((a) => (a === 'HISTO' ? histo : a));
    const r = await run('setpriv', [...AS_NOBODY, bin, ...argv], {
      cwd: base,
      timeoutMs: 120_000,
      env: cleanEnv(),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(out);
  });

  it('the exporter and the collectd generator run by name from the prefix; every docs/ path that help and the report name is in the installed package', async () => {
    const pkg = join(prefix, 'lib', 'node_modules', 'pvlockfs');
    const env = { ...cleanEnv(), PATH: `${join(prefix, 'bin')}:/usr/bin:/bin:/usr/sbin:/sbin` };
    const spinlocks = join(base, 'debugfs', 'kvm', 'spinlocks');
    await writeSpinlocks(spinlocks, { taken: '10\n', released: '10\n' });
    const exporter = await run('pvlockfs-exporter', [spinlocks], { cwd: base, env });
    expect(exporter.code, exporter.stderr).toBe(0);
    expect(exporter.stdout).toMatch(/^kvm_spinlock_taken_total 10$/m);
    const conf = await run('pvlockfs-collectd-conf', [spinlocks], { cwd: base, env });
    expect(conf.code, conf.stderr).toBe(0);
    expect(conf.stdout).toContain('<Plugin table>');
    for (const tool of ['pvlockfs-exporter', 'pvlockfs-collectd-conf']) {
      const h = await run(tool, ['--help'], { cwd: base, env });
      expect(h.code, `${tool} --help`).toBe(0);
      expect(h.stdout.length).toBeGreaterThan(100);
    }
    // Everything help says (the whole text and each command's), and an experiment's report.
    const texts: string[] = [];
    for (const args of [
      ['help'],
      ...['mount', 'run', 'experiment', 'top', 'histo', 'help', 'version'].map((c) => ['help', c]),
    ]) {
      const h = await run('pvlockfs', args, { cwd: base, env });
      expect(h.code, args.join(' ')).toBe(0);
      texts.push(Buffer.from(h.stdout, 'latin1').toString('utf8'));
    }
    const help = texts.join('\n');
    expect(help).toContain(`The documents named docs/… are in ${join(pkg, 'docs')}.`);
    expect(help).toContain('pvlockfs-exporter and\npvlockfs-collectd-conf');
    expect(help).not.toContain('scripts/');
    const out = join(base, 'report');
    const exp = await run(
      'pvlockfs',
      [
        'experiment',
        ...['--scenarios', 'A', '--overcommit', '1', '--reps', '1', '--work', '1ms'],
        ...['--jobs', '1', '--out', out],
      ],
      { cwd: base, env, timeoutMs: 120_000 },
    );
    expect(exp.code, exp.stderr).toBe(0);
    const named = [
      ...help.matchAll(/docs\/[\w./-]*[\w]/g),
      ...(exp.stdout + (await fsp.readFile(join(out, 'report.md'), 'utf8'))).matchAll(
        /docs\/[\w./-]*[\w]/g,
      ),
    ].map((m) => m[0]);
    expect(named).toContain('docs/model.md');
    expect(named).toContain('docs/recipes/incident.script');
    for (const p of new Set(named))
      expect(
        await fsp.stat(join(pkg, p)).then(
          () => p,
          () => `${p} missing`,
        ),
      ).toBe(p);
  }, 300_000);

  it('npm install -g of a clone directory gives a pvlockfs that runs the clone (its own launcher)', async () => {
    const linked = join(base, 'prefix-dir');
    const r = await run(
      'npm',
      ['install', '-g', '--prefix', linked, join(base, 'src-copy'), '--no-audit', '--no-fund'],
      { cwd: base, timeoutMs: 300_000, env: cleanEnv() },
    );
    expect(r.code, r.stderr).toBe(0);
    const v = await run(join(linked, 'bin', 'pvlockfs'), ['version'], {
      cwd: base,
      timeoutMs: 120_000,
      env: cleanEnv(),
    });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toBe('pvlockfs 0.1.0\n');
  });

  it('the preload of the package launcher is not passed on to the commands pvlockfs starts', async () => {
    const so = join(
      prefix,
      'lib',
      'node_modules',
      'pvlockfs',
      'node_modules',
      'fuse-native',
      'prebuilds',
      'linux-x64',
      'libfuse.so',
    );
    const pkg = join(prefix, 'lib', 'node_modules', 'pvlockfs');
    const script = `require(${JSON.stringify(join(pkg, 'dist', 'cli', 'preload.js'))}); console.log(process.env.LD_PRELOAD ?? 'unset', process.env.PVLOCKFS_PRELOADED ?? 'unset')`;
    const r = await run(process.execPath, ['-e', script], {
      env: { ...cleanEnv(), LD_PRELOAD: so, PVLOCKFS_PRELOADED: so },
    });
    expect(r.stdout).toBe('unset unset\n');
  });

  it('the systemd unit of docs/recipes passes systemd-analyze verify with the installed command', async () => {
    expect(
      await ensureCommand('systemd-analyze', 'systemd'),
      'systemd-analyze must be installable from Debian',
    ).toBeNull();
    const unit = await fsp.readFile(join(ROOT, 'docs', 'recipes', 'pvlockfs.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/pvlockfs mount /m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
    const here = join(base, 'pvlockfs.service');
    await fsp.writeFile(here, unit.replace(/\/usr\/local\/bin\/pvlockfs/g, bin));
    const ok = await run('systemd-analyze', ['verify', '--man=no', here], { timeoutMs: 60_000 });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    // Sandboxed as far as a unit can be without a mount namespace of its own: exposure <= 4.
    const sec = await run('systemd-analyze', ['security', '--offline=true', here], {
      timeoutMs: 60_000,
    });
    const level = /Overall exposure level for [^:]*: ([0-9.]+)/.exec(sec.stdout);
    expect(level, sec.stdout + sec.stderr).not.toBeNull();
    expect(Number(level?.[1])).toBeLessThanOrEqual(4);
    // And none of the settings that would hide the mount in a namespace of the unit's own.
    expect(unit).not.toMatch(
      /^(Protect(System|Home|KernelTunables|KernelModules|KernelLogs|ControlGroups|Proc)|Private(Tmp|Devices|Mounts|Network)|ReadOnlyPaths|InaccessiblePaths|TemporaryFileSystem)=/m,
    );
    // verify does check: the same unit naming a command that is not there fails.
    await fsp.writeFile(
      here,
      unit.replace(/\/usr\/local\/bin\/pvlockfs/g, join(base, 'no-such-command')),
    );
    expect(
      (await run('systemd-analyze', ['verify', '--man=no', here], { timeoutMs: 60_000 })).code,
    ).not.toBe(0);
  });

  it('pvlockfs top works for nobody (in a real terminal: tmux), and q quits it', async () => {
    expect(await ensureCommand('tmux', 'tmux'), 'tmux must be installable from Debian').toBeNull();
    const dir = join(base, 'debugfs', 'kvm', 'spinlocks');
    await fsp.mkdir(dir, { recursive: true });
    const histo = `${Array(31).fill(0).join(' ')}\n`;
    for (const f of [
      'taken',
      'taken_slow',
      'released',
      'time_spinning',
      'time_blocked',
      'time_total',
      'timeout',
      'zero_stats',
    ]) {
      await fsp.writeFile(join(dir, f), f === 'timeout' ? '4096\n' : '0\n');
    }
    for (const f of ['histo_total', 'histo_spinning', 'histo_blocked'])
      await fsp.writeFile(join(dir, f), histo);
    await run('chmod', ['-R', 'a+rX', base]);
    const session = `pvlockfs-pkg-top-${process.pid}`;
    const cmd = `env -u LD_LIBRARY_PATH setpriv ${AS_NOBODY.join(' ')} ${bin} top ${join(base, 'debugfs')}`;
    await run('tmux', ['new-session', '-d', '-s', session, '-x', '80', '-y', '24', cmd]);
    try {
      await waitFor(
        async () =>
          /timeout 4096/.test((await run('tmux', ['capture-pane', '-p', '-t', session])).stdout),
        30_000,
        'top (as nobody) to draw a frame',
      );
      await run('tmux', ['send-keys', '-t', session, 'q']);
      await waitFor(
        async () => (await run('tmux', ['has-session', '-t', session])).code !== 0,
        20_000,
        'top to quit on q',
      );
    } finally {
      await run('tmux', ['kill-session', '-t', session]);
    }
  });
});
