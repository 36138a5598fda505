import { FsError } from './errors';
import type { ArrayNode, AttrNode, EventNode, Node, TextNode, Width } from './nodes';
import { Abi, parseAttrWrite } from './parse';

/** One open file description: its position and the text captured for it. */
export class OpenFile {
  pos = 0;
  text: Buffer | null = null;
  /** Where the last write on this description ended and how long it was (see `isContinuation`). */
  lastWriteEnd = -1;
  lastWriteLen = 0;
  /** Opened with O_APPEND: FUSE then sends each write at the file's size (0), not its position. */
  append = false;
  /** The epoch of the node's module when the file was opened (see `NodeBase.life`). */
  readonly epoch: number;
  constructor(
    readonly node: Node,
    readonly abi: Abi,
  ) {
    this.epoch = node.life?.epoch ?? 0;
  }
}

/** EIO for a file whose module was unloaded since it was opened. */
function checkAlive(f: OpenFile): void {
  const life = f.node.life;
  if (life !== undefined && life.epoch !== f.epoch)
    throw new FsError('EIO', `${f.node.name}: its module was unloaded since it was opened`);
}

const EMPTY = Buffer.alloc(0);

/** Mirrors `simple_attr_read`'s format for u8..u64: `"%llu\n"` of the zero-extended value. */
export function formatAttr(value: bigint): Buffer {
  return Buffer.from(`${value}\n`, 'latin1');
}

/** Mirrors the u32 array format: each `"%u"`, one space between, `"\n"` after the last. */
export function formatArray(values: ArrayLike<number>): Buffer {
  let s = '';
  for (let i = 0; i < values.length; i++)
    s += i === 0 ? `${values[i] >>> 0}` : ` ${values[i] >>> 0}`;
  return Buffer.from(`${s}\n`, 'latin1');
}

/** Truncates a written value to the attribute's width, like the kernel's setter assignment. */
export function truncateToWidth(value: bigint, width: Width): bigint {
  return BigInt.asUintN(width, value);
}

/**
 * The last text each node's files captured: files that capture the same text share one buffer,
 * so many open files of one node cost their text once (a paused guest's files never change).
 */
const lastText = new WeakMap<Node, { text: string; buf: Buffer }>();
const lastArray = new WeakMap<Node, { values: Uint32Array; buf: Buffer }>();

/** A text file's text, sharing the buffer of the node's last capture when it is the same. */
function textOf(node: TextNode): Buffer {
  const text = node.get();
  const last = lastText.get(node);
  if (last !== undefined && last.text === text) return last.buf;
  const buf = Buffer.from(text, 'utf8');
  lastText.set(node, { text, buf });
  return buf;
}

/** A u32 array's text, sharing the buffer of the node's last capture when the values are the same. */
function arrayText(node: ArrayNode): Buffer {
  const values = node.get();
  const last = lastArray.get(node);
  if (last !== undefined && sameValues(last.values, values)) return last.buf;
  const buf = formatArray(values);
  lastArray.set(node, { values: Uint32Array.from(values), buf });
  return buf;
}

function sameValues(a: Uint32Array, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] >>> 0) return false;
  return true;
}

/**
 * Opens a file. Directories cannot be opened as files (EISDIR). u32 arrays capture their text
 * here under the modern profile (`u32_array_open`, since 3.6).
 */
export function openFile(node: Node, abi: Abi): OpenFile {
  if (node.kind === 'dir') throw new FsError('EISDIR');
  const f = new OpenFile(node, abi);
  if (node.kind === 'array' && abi === 'modern') f.text = arrayText(node);
  return f;
}

/** The text a read at offset 0 captures, or the one kept from before. */
function capture(f: OpenFile): Buffer {
  const n = f.node;
  switch (n.kind) {
    case 'attr':
      // simple_attr_read: format at offset 0; at a later offset reuse the text (modern kernels
      // format afresh if nothing was captured yet).
      if (f.pos === 0 || f.text === null) f.text = formatAttr(n.get());
      return f.text;
    case 'array':
      // 2.6.35/RFC: each read at offset 0 formats anew; modern: captured at open.
      if (f.abi === '2.6.35' && (f.pos === 0 || f.text === null)) f.text = arrayText(n);
      return f.text ?? EMPTY;
    case 'text':
      if (f.pos === 0 || f.text === null) f.text = textOf(n);
      return f.text;
    default:
      throw new FsError('EISDIR');
  }
}

/**
 * Reads up to `len` bytes at `offset`. debugfs files are non-seekable: a read anywhere but the
 * description's own position fails with ESPIPE (this is how pread and seek-then-read surface).
 */
export function readFile(f: OpenFile, offset: number, len: number): Buffer {
  checkAlive(f);
  if (f.node.kind === 'event') return readEvent(f, f.node, offset, len);
  if (offset !== f.pos) throw new FsError('ESPIPE', `read at ${offset}, position ${f.pos}`);
  const text = capture(f);
  if (len === 0 || f.pos >= text.length) return EMPTY;
  const out = text.subarray(f.pos, Math.min(text.length, f.pos + len));
  f.pos += out.length;
  return out;
}

/** A seekable file with its own read: fresh text at every read, served from `offset`. */
function readEvent(f: OpenFile, n: EventNode, offset: number, len: number): Buffer {
  if (n.get === null) throw new FsError('EBADF', `${n.name} cannot be read`);
  const text = Buffer.from(n.get(), 'latin1');
  if (len === 0 || offset >= text.length) return EMPTY;
  const out = text.subarray(offset, Math.min(text.length, offset + len));
  f.pos = offset + out.length;
  return out;
}

/** The most one FUSE WRITE request carries: 32 pages (the kernel's default `max_pages`). */
export const FUSE_MAX_WRITE = 128 * 1024;
const PAGE_SIZE = 4096;

/**
 * Whether a WRITE is the next piece of one `write(2)` the kernel split. With direct_io the kernel
 * sends at most 32 pages of the caller's buffer per request, so a piece is cut short only by where
 * the buffer starts in its first page: every piece but the last is longer than 124 KiB, and the
 * next starts where it ended. A debugfs attribute looks at the first 23 bytes of the whole
 * `write(2)` only, so the later pieces must neither be parsed nor change anything.
 * (A caller that itself makes back-to-back writes of more than 124 KiB on one descriptor is
 * taken for one write: documented in docs/debugfs.md.)
 */
function isContinuation(f: OpenFile, offset: number): boolean {
  return offset === f.lastWriteEnd && f.lastWriteLen > FUSE_MAX_WRITE - PAGE_SIZE;
}

/**
 * Writes one buffer at `offset` (the description's position unless FUSE says otherwise).
 * Mirrors `simple_attr_write`: no setter → EACCES; the first 23 bytes are parsed on their own by
 * the profile's parser; success returns the full length. Arrays and text files have no write
 * method → EINVAL. The later pieces of a split `write(2)` are accepted whole and ignored.
 */
export function writeFile(f: OpenFile, data: Uint8Array, offset = f.pos): number | Promise<number> {
  checkAlive(f);
  const rest = isContinuation(f, offset);
  // A non-seekable file takes writes at its position only (pwrite elsewhere: ESPIPE, as on a
  // kernel whose FUSE could not be told the file is non-seekable).
  if (!rest && offset !== f.pos && !f.append && f.node.kind !== 'event')
    throw new FsError('ESPIPE', `write at ${offset}, position ${f.pos}`);
  const later = rest ? undefined : writeWhole(f, data);
  // A failed write never gets here: the kernel returns its error and sends no further pieces.
  f.lastWriteEnd = offset + data.length;
  f.lastWriteLen = data.length;
  // The kernel leaves f_pos alone, but FUSE advances it; follow so later reads stay in step.
  f.pos = offset + data.length;
  return later instanceof Promise ? later.then(() => data.length) : data.length;
}

function writeWhole(f: OpenFile, data: Uint8Array): void | Promise<void> {
  const n = f.node;
  if (n.kind === 'event') {
    if (n.write !== null) n.write();
    return;
  }
  if (n.kind === 'text' && n.set !== undefined) return n.set(Buffer.from(data).toString('latin1'));
  if (n.kind !== 'attr') throw new FsError(n.kind === 'dir' ? 'EISDIR' : 'EINVAL');
  return writeAttr(n, f.abi, data);
}

/**
 * Parses and stores one write to an attribute (throws the kernel's errno on failure); a setter
 * that completes later returns its promise.
 */
export function writeAttr(n: AttrNode, abi: Abi, data: Uint8Array): void | Promise<void> {
  if (n.set === null) throw new FsError('EACCES', `${n.name} is read-only`);
  const parsed = parseAttrWrite(abi, data);
  if (!parsed.ok)
    throw new FsError(
      parsed.code,
      `${n.name}: ${JSON.stringify(Buffer.from(data).toString('latin1').slice(0, 32))}`,
    );
  return n.set(truncateToWidth(parsed.value, n.width));
}
