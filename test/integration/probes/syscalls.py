"""Makes the exact system calls of docs/debugfs.md's syscall table on a mounted kvm/spinlocks
directory and prints what each answered, as JSON: {"row": "answer", ...}. An answer is an errno
name, or what succeeded. Run by test/integration/syscalls.test.ts; usage: syscalls.py DIR."""
import ctypes
import errno
import json
import mmap
import os
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
d = sys.argv[1]
out = {}


def name(e):
    return errno.errorcode.get(e, str(e))


def attempt(row, fn):
    """Runs fn; records its result, or the errno it raised."""
    try:
        out[row] = fn()
    except OSError as e:
        out[row] = name(e.errno)


def value(f):
    with open(os.path.join(d, f)) as h:
        return h.read()


def dtypes(path):
    """getdents64 of a directory: {name: d_type}."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    buf = ctypes.create_string_buffer(65536)
    types = {}
    try:
        while True:
            n = libc.syscall(217, fd, buf, len(buf))  # SYS_getdents64 on x86_64
            if n < 0:
                raise OSError(ctypes.get_errno(), 'getdents64')
            if n == 0:
                return types
            pos = 0
            while pos < n:
                _ino, _off, reclen, dtype = struct.unpack_from('<QqHB', buf.raw, pos)
                nm = buf.raw[pos + 19:pos + reclen].split(b'\0', 1)[0].decode()
                types[nm] = {4: 'DT_DIR', 8: 'DT_REG', 0: 'DT_UNKNOWN'}.get(dtype, str(dtype))
                pos += reclen
    finally:
        os.close(fd)


def statfs_flags(path):
    buf = ctypes.create_string_buffer(120)
    if libc.statfs(path.encode(), buf) != 0:
        raise OSError(ctypes.get_errno(), 'statfs')
    return hex(struct.unpack_from('<q', buf.raw, 80)[0])


def with_fd(f, flags, fn):
    fd = os.open(os.path.join(d, f), flags)
    try:
        return fn(fd)
    finally:
        os.close(fd)


def sendfile(f, offset):
    """sendfile of up to 100 bytes into a pipe: what it answered (bytes moved)."""
    r, w = os.pipe()
    try:
        return with_fd(f, os.O_RDONLY, lambda fd: 'sent %d' % os.sendfile(w, fd, offset, 100))
    finally:
        os.close(r)
        os.close(w)


def pread_at_position(f):
    """With the file at 1024: read 2 bytes, pread at 2, then what the next read gives."""
    with_fd(f, os.O_WRONLY, lambda fd: os.write(fd, b'1024\n'))

    def go(fd):
        os.read(fd, 2)
        try:
            got = 'served %r' % os.pread(fd, 100, 2).decode()
        except OSError as e:
            got = name(e.errno)
        try:
            nxt = 'next read %r' % os.read(fd, 100).decode()
        except OSError as e:
            nxt = 'next read ' + name(e.errno)
        return got + '; ' + nxt
    return with_fd(f, os.O_RDONLY, go)


def pwrite(f, text, offset, before=None, flags=os.O_WRONLY):
    """pwrite (after an optional write) and the value read afterwards."""
    def go(fd):
        if before is not None:
            os.write(fd, before)
        try:
            got = 'wrote %d' % os.pwrite(fd, text, offset)
        except OSError as e:
            got = name(e.errno)
        return got
    got = with_fd(f, flags, go)
    return got + '; value ' + value(f).strip()


def appends(f):
    def go(fd):
        return 'wrote %d, %d' % (os.write(fd, b'7\n'), os.write(fd, b'9\n'))
    return with_fd(f, os.O_WRONLY | os.O_APPEND, go) + '; value ' + value(f).strip()


def writev(f, parts):
    def go(fd):
        try:
            return 'wrote %d' % os.writev(fd, parts)
        except OSError as e:
            return name(e.errno)
    return with_fd(f, os.O_WRONLY, go) + '; value ' + value(f).strip()


def mapped(f):
    # Through libc: Python's mmap module refuses a length beyond the file's size (0) itself.
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]

    def go(fd):
        p = libc.mmap(None, 4096, mmap.PROT_READ, mmap.MAP_PRIVATE, fd, 0)
        if p is None or p == ctypes.c_void_p(-1).value:
            raise OSError(ctypes.get_errno(), 'mmap')
        libc.munmap(ctypes.c_void_p(p), 4096)
        return 'mapped'
    return with_fd(f, os.O_RDONLY, go)


def lseek(path, whence, flags=os.O_RDONLY):
    fd = os.open(path, flags)
    try:
        return 'offset %d' % os.lseek(fd, 0, whence)
    finally:
        os.close(fd)


def name_to_handle(path):
    class Handle(ctypes.Structure):
        _fields_ = [('bytes', ctypes.c_uint), ('type', ctypes.c_int), ('f', ctypes.c_ubyte * 128)]
    h = Handle()
    h.bytes = 128
    mount_id = ctypes.c_int()
    if libc.name_to_handle_at(-100, path.encode(), ctypes.byref(h), ctypes.byref(mount_id), 0) != 0:
        raise OSError(ctypes.get_errno(), 'name_to_handle_at')
    return 'handle'


def truncated_size(f):
    os.truncate(os.path.join(d, f), 10)
    return 'size %d' % os.stat(os.path.join(d, f)).st_size


def fsync(f, flags, fn):
    return with_fd(f, flags, lambda fd: (fn(fd), 'ok')[1])


def fsync_dir(fn):
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fn(fd)
        return 'ok'
    finally:
        os.close(fd)


def copyfile(f):
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as t:
        shutil.copyfile(os.path.join(d, f), os.path.join(t, 'x'))
        with open(os.path.join(t, 'x')) as h:
            return 'copied %r' % h.read()


# The first table: what the daemon answers itself.
attempt('getdents64 d_type', lambda: json.dumps(dtypes(d), sort_keys=True))
attempt('stat 256-byte name', lambda: os.stat(os.path.join(d, 'x' * 256)) and 'exists')
attempt('stat 255-byte name', lambda: os.stat(os.path.join(d, 'x' * 255)) and 'exists')
for f, flags, label in (('taken', os.O_RDONLY, 'read'), ('timeout', os.O_WRONLY, 'write')):
    attempt('fsync %s fd' % label, lambda: fsync(f, flags, os.fsync))
    attempt('fdatasync %s fd' % label, lambda: fsync(f, flags, os.fdatasync))
attempt('fsync directory', lambda: fsync_dir(os.fsync))
attempt('fdatasync directory', lambda: fsync_dir(os.fdatasync))
with_fd('timeout', os.O_WRONLY, lambda fd: os.write(fd, b'1024\n'))
attempt('pwrite @1 fresh', lambda: pwrite('timeout', b'5\n', 1))
attempt('pwrite @5 fresh', lambda: pwrite('timeout', b'6\n', 5))
attempt('pwrite @0 after write', lambda: pwrite('timeout', b'3\n', 0, before=b'8\n'))
attempt('O_APPEND writes', lambda: appends('timeout'))
attempt('truncate 10 then stat', lambda: truncated_size('zero_stats'))
attempt('open O_DIRECT', lambda: with_fd('taken', os.O_RDONLY | os.O_DIRECT, lambda fd: 'opened'))
attempt('statfs f_flags', lambda: statfs_flags(d))
# The second table: what FUSE decides, unless the file is opened non-seekable.
attempt('sendfile with offset', lambda: sendfile('timeout', 0))
attempt('sendfile without offset', lambda: sendfile('timeout', None))
attempt('pread at own position', lambda: pread_at_position('timeout'))
attempt('pwrite @0 fresh', lambda: pwrite('timeout', b'4\n', 0))
attempt('mmap private', lambda: mapped('timeout'))
attempt('writev 1|2\\n', lambda: writev('timeout', [b'1', b'2\n']))
attempt('writev 5\\n|x', lambda: writev('timeout', [b'5\n', b'x']))
attempt('writev 6\\n|7\\n', lambda: writev('timeout', [b'6\n', b'7\n']))
attempt('lseek file SEEK_SET', lambda: lseek(os.path.join(d, 'taken'), os.SEEK_SET))
attempt('lseek directory SEEK_END', lambda: lseek(d, os.SEEK_END, os.O_RDONLY | os.O_DIRECTORY))
attempt('name_to_handle_at', lambda: name_to_handle(os.path.join(d, 'taken')))
attempt('shutil.copyfile histo_total', lambda: copyfile('histo_total'))
attempt('shutil.copyfile timeout', lambda: copyfile('timeout'))
print(json.dumps(out, indent=1))
