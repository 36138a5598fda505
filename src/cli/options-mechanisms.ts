import type { MechanismConfig } from '../sim/mech-config';
import type { OptionRow } from './options';

const BOTH = ['run', 'mount'] as const;

/** The switchable mechanisms of the 2010 host: flag name, config key, what it adds. */
export const MECHANISM_SWITCHES: readonly {
  name: string;
  key: keyof MechanismConfig & ('shadowPaging' | 'vfsLocks' | 'ipiUnderLock');
  help: string;
}[] = [
  {
    name: 'shadow-paging',
    key: 'shadowPaging',
    help: "shadow paging without EPT/VPID: faults serialize on the VM's mmu_lock, PTE writes under page-table locks fault, remote TLB flushes force the other vCPUs out",
  },
  {
    name: 'vfs-locks',
    key: 'vfsLocks',
    help: "the 2.6.35 guest's global VFS locks (dcache_lock, files_lock, inode_lock, vfsmount_lock) taken by path walks",
  },
  {
    name: 'ipi-under-lock',
    key: 'ipiUnderLock',
    help: 'IPIs sent while holding a lock at 2010 KVM cost: reschedule IPIs under run-queue locks, TLB shootdowns that wait for every target',
  },
];

/** `--NAME` and `--no-NAME` for each mechanism (parameters: `--param`, docs/mechanisms.md). */
export const MECHANISM_OPTION_SPECS: readonly OptionRow[] = MECHANISM_SWITCHES.flatMap((m) => [
  {
    flag: `--${m.name}`,
    help: `mechanism: ${m.help}`,
    commands: BOTH,
    set: (o) => ((o.sim as MechanismConfig)[m.key] = true),
  },
  {
    flag: `--no-${m.name}`,
    help: `ablation: without ${m.name}`,
    commands: BOTH,
    set: (o) => ((o.sim as MechanismConfig)[m.key] = false),
  },
]);
