import { mountTrivial } from '../fuse/trivial';

// The benchmark's trivial fuse-native daemon: mounts at argv[2], prints "mounted", unmounts on SIGTERM.
const TEXT =
  '0 0 0 0 310908 65880 3 129010 390 340 340 260 90 40 10 0 20 20 0 20 10 0 20 20 10 0 0 0 0 0 0\n';
Promise.resolve()
  .then(() => mountTrivial(process.argv[2], TEXT))
  .then(
    (mounted) => {
      process.stdout.write('mounted\n');
      const stop = (): void =>
        void mounted.unmount().then(
          () => process.exit(0),
          (e: unknown) => {
            process.stderr.write(`trivial daemon: ${String(e)}\n`);
            process.exit(1);
          },
        );
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    },
    (e: unknown) => {
      process.stderr.write(`trivial daemon: ${String(e)}\n`);
      process.exit(1);
    },
  );
