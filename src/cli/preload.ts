/**
 * Imported first by the CLI's entry point. An installed package's launcher (bin/pvlockfs) may
 * preload fuse-native's own libfuse.so by its full path when the system has no libfuse.so.2; the
 * library is loaded by now, so the preload is taken out of the environment again: the commands
 * this process starts (fusermount, umount) must not inherit it.
 */
const preloaded = process.env.PVLOCKFS_PRELOADED;

/** The library the launcher preloaded, if any (a daemon started in the background needs it too). */
export const PRELOADED_LIB: string | undefined = preloaded;

if (preloaded !== undefined) {
  const rest = (process.env.LD_PRELOAD ?? '').split(':').filter((p) => p !== '' && p !== preloaded);
  if (rest.length > 0) process.env.LD_PRELOAD = rest.join(':');
  else delete process.env.LD_PRELOAD;
  delete process.env.PVLOCKFS_PRELOADED;
}

// node-gyp-build would load fuse-native's binary from wherever this names: never from there.
delete process.env.FUSE_NATIVE_PREBUILD;
