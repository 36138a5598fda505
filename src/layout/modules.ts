import { DirNode, freshIno, Node } from '../debugfs/nodes';
import type { QStats } from '../sim/qstats';
import type { PvStats } from '../sim/stats';
import { Layout, readableFiles } from './tree';

/** One guest's statistics directory, seen as the kernel module that made it. */
interface Module {
  parent: DirNode;
  dir: DirNode;
  /** Where `dir` is among its parent's entries (a reload puts it back there). */
  index: number;
  life: { epoch: number };
  gone: boolean;
  stats: PvStats;
  qstats: QStats;
  /** The knobs at boot: a reloaded module starts from them. */
  bootTimeout: number;
  /** The files' own modes, while `chmod` has changed them. */
  modes: Map<Node, number> | null;
}

/** What a guest's module needs: its statistics, its tree and its layout. */
export interface ModuleGuest {
  stats: PvStats;
  qstats: QStats;
  root: DirNode;
  layout: Layout;
}

/**
 * Each guest's statistics directory (`kvm/`, `xen/`, `kvm-guest/`, `qlockstat/`) as the module
 * that made it: `unload` removes it (a lookup then gives ENOENT; a file opened before gives EIO,
 * even once it is back, as after a module's removal), `load` puts it back zeroed with its knobs at
 * their boot values, `reboot` does both `forNs` of simulated time apart.
 */
export class GuestModules {
  private readonly mods: Module[] = [];
  /** When a reboot's load is due (simulated ns), or null. */
  private loadAtNs: number | null = null;

  constructor(
    guests: readonly ModuleGuest[],
    private readonly simNowNs: () => number,
  ) {
    for (const g of guests) {
      const top = readableFiles(g.layout)[0].split('/')[0];
      const dir = g.root.children.get(top);
      if (dir === undefined || dir.kind !== 'dir') continue;
      const life = { epoch: 0 };
      for (const n of subtree(dir)) n.life = life;
      this.mods.push({
        parent: g.root,
        dir,
        index: [...g.root.children.keys()].indexOf(top),
        life,
        gone: false,
        stats: g.stats,
        qstats: g.qstats,
        bootTimeout: g.stats.timeout[0],
        modes: null,
      });
    }
  }

  /** Whether the modules are loaded (`loaded=` of the counters file). */
  get loaded(): boolean {
    return this.mods.every((m) => !m.gone);
  }

  unload(): void {
    this.loadAtNs = null;
    for (const m of this.mods) {
      if (m.gone) continue;
      m.parent.children.delete(m.dir.name);
      m.life.epoch += 1;
      m.gone = true;
    }
  }

  load(): void {
    this.loadAtNs = null;
    for (const m of this.mods) {
      if (!m.gone) continue;
      const entries = [...m.parent.children];
      entries.splice(Math.min(m.index, entries.length), 0, [m.dir.name, m.dir]);
      m.parent.children = new Map(entries);
      m.stats.resetAll();
      m.stats.zeroStats[0] = 0;
      m.stats.timeout[0] = m.bootTimeout;
      m.qstats.reset();
      // What the reloaded module creates are new inodes.
      for (const n of subtree(m.dir)) n.ino = freshIno();
      m.gone = false;
    }
  }

  /** Unloads now and loads again `forNs` of simulated time later (see `clockAdvanced`). */
  reboot(forNs: number): void {
    this.unload();
    this.loadAtNs = this.simNowNs() + forNs;
  }

  /** Loads a rebooting module once its time has come (the clock's driver calls this). */
  clockAdvanced(): void {
    if (this.loadAtNs !== null && this.simNowNs() >= this.loadAtNs) this.load();
  }

  /** Every file of the statistics directories gets `mode`, or (null) its own mode back. */
  chmod(mode: number | null): void {
    for (const m of this.mods) {
      if (mode === null) {
        for (const [n, own] of m.modes ?? []) n.mode = own;
        m.modes = null;
        continue;
      }
      const own = m.modes ?? new Map<Node, number>();
      for (const n of subtree(m.dir)) {
        if (n.kind === 'dir') continue;
        if (!own.has(n)) own.set(n, n.mode);
        n.mode = mode;
      }
      m.modes = own;
    }
  }
}

/** A directory and everything under it. */
function subtree(dir: DirNode): Node[] {
  const out: Node[] = [dir];
  for (const c of dir.children.values()) {
    if (c.kind === 'dir') out.push(...subtree(c));
    else out.push(c);
  }
  return out;
}
