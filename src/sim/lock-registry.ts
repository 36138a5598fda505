import type { LayoutName, LockAlgorithm } from './config';
import type { Guest } from './guest';
import { DirectedYieldLock, PvYieldLock, TicketLock } from './locks';
import { PvTicketLock } from './locks-pvticket';
import { PvQspinLock } from './locks-qspin';
import { PvHybridLock } from './locks-hybrid';
import { TasLock } from './locks-tas';
import { XenBlockLock } from './locks-xen';
import type { LockAlgorithmImpl } from './vcpu';
import type { HandoffKind } from './handoff';

/** Everything the rest of pvlockfs needs to know about one lock algorithm. */
export interface LockSpec {
  /** Builds the algorithm for a guest. */
  create(g: Guest): LockAlgorithmImpl;
  /** The debugfs layout the guest kernel running this lock keeps. */
  layout: LayoutName;
  /** Whether the guest keeps the RFC's statistics (otherwise its RFC directory stays all zero). */
  rfcStats: boolean;
  /** One line for `--lock`'s help. */
  help: string;
  /**
   * Whether the named experiments compare it beside the others (C-2x, C-3x, B-3x). A lock added
   * after their verdicts were set says false, so that adding it changes no verdict.
   */
  named: boolean;
  /** How its spinners wait on the lock's cache line (what a contended hand-off costs: handoff.ts). */
  handoff: HandoffKind;
}

/**
 * Every lock algorithm, declared once. The compiler checks it is complete: a name added to
 * `LOCKS` without a line here does not build. Adding a lock is one file plus one line here.
 */
export const LOCK_ALGORITHMS = {
  ticket: {
    create: (g) => new TicketLock(g),
    layout: 'kvm-2010',
    rfcStats: false,
    help: "the stock ticket lock, the RFC's baseline",
    named: true,
    handoff: 'reread',
  },
  'pv-yield': {
    create: (g) => new PvYieldLock(g),
    layout: 'kvm-2010',
    rfcStats: true,
    help: "the RFC's spin-then-yield, the default",
    named: true,
    handoff: 'reread',
  },
  'pv-ticket': {
    create: (g) => new PvTicketLock(g),
    layout: 'kvm-guest-3.12',
    rfcStats: false,
    help: "3.12's pv ticketlock, halt and kick",
    named: true,
    handoff: 'reread',
  },
  'directed-yield': {
    create: (g) => new DirectedYieldLock(g),
    layout: 'kvm-2010',
    rfcStats: true,
    help: "the RFC's lock with 2.6.39's directed yield",
    named: true,
    handoff: 'reread',
  },
  'xen-block': {
    create: (g) => new XenBlockLock(g),
    layout: 'xen-2.6.35',
    rfcStats: true,
    help: "Xen 2.6.35's spin-then-block",
    named: true,
    handoff: 'reread',
  },
  'pv-qspinlock': {
    create: (g) => new PvQspinLock(g),
    layout: 'qlockstat',
    rfcStats: false,
    help: '4.2 pv qspinlock: queued, halt and kick, no lock stealing',
    named: true,
    handoff: 'queued',
  },
  tas: {
    create: (g) => new TasLock(g),
    layout: 'kvm-2010',
    rfcStats: false,
    help: 'the unfair test-and-set byte lock of guests without pv spinlocks, 4.2+ virt_spin_lock',
    named: false,
    handoff: 'exchange',
  },
  'pv-hybrid': {
    create: (g) => new PvHybridLock(g),
    layout: 'qlockstat',
    rfcStats: false,
    help: "4.15+ pv qspinlock: steals while the queue's head is not spinning, else queued",
    named: false,
    handoff: 'queued',
  },
} satisfies Record<LockAlgorithm, LockSpec>;
