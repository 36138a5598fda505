import { FsError } from './errors';

/** Integer attribute widths (u8, u16, u32, u64). */
export type Width = 8 | 16 | 32 | 64;

interface NodeBase {
  name: string;
  /** The inode number `stat` and `getdents64` show (the root's is 1, as debugfs's is). */
  ino: number;
  /**
   * The life of the module that made the node (absent: it lives as long as the mount). A file
   * opened in an earlier epoch answers EIO, as a debugfs file whose module was unloaded does.
   */
  life?: { epoch: number };
  /** Permission bits (07777); the file type comes from `kind`. */
  mode: number;
  uid: number;
  gid: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** A directory (`debugfs_create_dir`). */
export interface DirNode extends NodeBase {
  kind: 'dir';
  children: Map<string, Node>;
}

/** An integer attribute (`debugfs_create_u8/u16/u32/u64`): one implementation, driven by width. */
export interface AttrNode extends NodeBase {
  kind: 'attr';
  width: Width;
  get: () => bigint;
  /**
   * Absent for files created without write bits (the kernel's `_ro` fops). May throw FsError,
   * or return a promise when the write completes later (the write(2) returns then).
   */
  set: AttrSetter | null;
}

/** An attribute's setter: done when it returns, or when the promise it returns settles. */
export type AttrSetter = (value: bigint) => void | Promise<void>;

/** A u32 array (`debugfs_create_u32_array`). */
export interface ArrayNode extends NodeBase {
  kind: 'array';
  get: () => ArrayLike<number>;
}

/**
 * A text file (a `single_open` seq file): text captured at the first read at offset 0. Read-only
 * unless it has `set`, which takes each `write()`'s bytes (latin1) whole and may throw FsError
 * (a control file that takes words, like the fault-injection `task-filter` and `errno`).
 */
export interface TextNode extends NodeBase {
  kind: 'text';
  get: () => string;
  set?: (text: string) => void;
}

/**
 * A file with its own read and write methods and `default_llseek`, like qlockstat's counters
 * (`debugfs_create_file` with `fops_qstat`): the text is computed at every `read()` and served
 * from the requested offset (seekable, no snapshot); a write returns its full length and runs
 * `write` if there is one (the counter files ignore writes). `get` null: a read fails with EBADF.
 */
export interface EventNode extends NodeBase {
  kind: 'event';
  get: (() => string) | null;
  write: (() => void) | null;
}

/** Any node of the tree. */
export type Node = DirNode | AttrNode | ArrayNode | TextNode | EventNode;

const S_IWUGO = 0o222;
const S_IXUGO = 0o111;

/** The next inode number to hand out (1 is every tree's root). */
let nextIno = 2;

/** A new inode number: as the kernel gives a new inode to what a reloaded module creates. */
export function freshIno(): number {
  const ino = nextIno;
  nextIno = nextIno >= 0xfffffffe ? 2 : nextIno + 1;
  return ino;
}

function base(name: string, mode: number, nowMs: number): NodeBase {
  return {
    name,
    ino: freshIno(),
    mode,
    uid: 0,
    gid: 0,
    atimeMs: nowMs,
    mtimeMs: nowMs,
    ctimeMs: nowMs,
  };
}

function attach(parent: DirNode | null, node: Node): void {
  if (parent === null) return;
  if (parent.children.has(node.name)) throw new FsError('EEXIST', `${node.name} already present`);
  parent.children.set(node.name, node);
}

/** Mirrors `debugfs_create_dir`: mode 0755. A null parent makes a root with `rootMode`. */
export function createDir(
  name: string,
  parent: DirNode | null,
  nowMs: number,
  rootMode = 0o755,
): DirNode {
  const dir: DirNode = {
    ...base(name, parent === null ? rootMode : 0o755, nowMs),
    kind: 'dir',
    children: new Map(),
  };
  if (parent === null) dir.ino = 1;
  attach(parent, dir);
  return dir;
}

/**
 * Mirrors `debugfs_create_u8/u16/u32/u64`: the setter is dropped when `mode` has no write bit,
 * which is why root's write to a 0444 attribute fails with EACCES (`simple_attr_write`).
 */
export function createAttr(
  name: string,
  mode: number,
  parent: DirNode,
  width: Width,
  get: () => bigint,
  set: AttrSetter | null,
  nowMs: number,
): AttrNode {
  const node: AttrNode = {
    ...base(name, mode, nowMs),
    kind: 'attr',
    width,
    get,
    set: mode & S_IWUGO ? set : null,
  };
  attach(parent, node);
  return node;
}

/**
 * Mirrors the RFC's `debugfs_create_u32_array` (patch 1/4), including its mode check: any write
 * or execute bit is refused with EINVAL. Unlike the RFC, nothing is allocated or attached before
 * the check, so the refusal leaks nothing.
 */
export function createU32Array(
  name: string,
  mode: number,
  parent: DirNode,
  get: () => ArrayLike<number>,
  nowMs: number,
): ArrayNode {
  if (mode & (S_IWUGO | S_IXUGO))
    throw new FsError('EINVAL', `u32 array ${name} with mode 0${mode.toString(8)}`);
  const node: ArrayNode = { ...base(name, mode, nowMs), kind: 'array', get };
  attach(parent, node);
  return node;
}

/** A read-only text file (used by pvlockfs's own control directory). */
export function createText(
  name: string,
  mode: number,
  parent: DirNode,
  get: () => string,
  nowMs: number,
  set?: (text: string) => void,
): TextNode {
  const node: TextNode = { ...base(name, mode, nowMs), kind: 'text', get };
  if (set !== undefined) node.set = set;
  attach(parent, node);
  return node;
}

/** A file with its own fops (see `EventNode`). */
export function createEventFile(
  name: string,
  mode: number,
  parent: DirNode,
  get: (() => string) | null,
  write: (() => void) | null,
  nowMs: number,
): EventNode {
  const node: EventNode = { ...base(name, mode, nowMs), kind: 'event', get, write };
  attach(parent, node);
  return node;
}

/** The longest name a directory entry may have, in bytes (the kernel's NAME_MAX). */
export const NAME_MAX = 255;
/** A name of at most this many UTF-16 units is at most NAME_MAX bytes (3 bytes per unit at most). */
const NAME_MAX_CHARS_SAFE = Math.floor(NAME_MAX / 3);

/**
 * Resolves a '/'-separated path from the root; ENOENT, ENOTDIR or ENAMETOOLONG as the kernel
 * would say.
 */
export function lookup(root: DirNode, path: string): Node {
  let node: Node = root;
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (node.kind !== 'dir') throw new FsError('ENOTDIR', path);
    // simple_lookup refuses a name longer than NAME_MAX bytes before looking.
    if (part.length > NAME_MAX_CHARS_SAFE && Buffer.byteLength(part) > NAME_MAX)
      throw new FsError('ENAMETOOLONG', path);
    const next: Node | undefined = node.children.get(part);
    if (next === undefined) throw new FsError('ENOENT', path);
    node = next;
  }
  return node;
}

/** Number of subdirectories of a directory. */
export function subdirCount(dir: DirNode): number {
  let n = 0;
  for (const c of dir.children.values()) if (c.kind === 'dir') n += 1;
  return n;
}
