// Minimal typings for fuse-native 2.2.6 (the package ships none); only what src/fuse uses.
declare module 'fuse-native' {
  namespace Fuse {
    /** A table of FUSE operations, each a handler that answers through its last argument. */
    type Operations = Record<string, (...args: any[]) => void>;
  }
  class Fuse {
    constructor(mountpoint: string, ops: Fuse.Operations, opts?: Record<string, unknown>);
    mount(cb: (err: Error | null) => void): void;
    unmount(cb: (err: Error | null) => void): void;
    _fuseOptions(): string;
    static unmount(mountpoint: string, cb: (err: Error | null) => void): void;
  }
  export = Fuse;
}
