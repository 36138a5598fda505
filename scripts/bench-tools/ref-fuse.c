/* The FUSE reference for the benchmark: a minimal libfuse 2 daemon serving one constant file,
 * /histo_total, with size 0 (mounted with -o direct_io, as pvlockfs is). */
#define FUSE_USE_VERSION 26
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fuse.h>
#include <string.h>
#include <sys/stat.h>

static const char text[] = "0 0 0 0 310908 65880 3 129010 390 340 340 260 90 40 10 0 20 20 0 20 10 0 20 20 10 0 0 0 0 0 0\n";

static int ref_getattr(const char *path, struct stat *st) {
  memset(st, 0, sizeof *st);
  if (strcmp(path, "/") == 0) { st->st_mode = S_IFDIR | 0755; st->st_nlink = 2; return 0; }
  if (strcmp(path, "/histo_total") == 0) { st->st_mode = S_IFREG | 0444; st->st_nlink = 1; return 0; }
  return -ENOENT;
}

static int ref_open(const char *path, struct fuse_file_info *fi) {
  (void)fi;
  return strcmp(path, "/histo_total") == 0 ? 0 : -ENOENT;
}

static int ref_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path; (void)fi;
  size_t len = sizeof text - 1;
  if ((size_t)off >= len) return 0;
  if (size > len - off) size = len - off;
  memcpy(buf, text + off, size);
  return (int)size;
}

static struct fuse_operations ops = { .getattr = ref_getattr, .open = ref_open, .read = ref_read };

int main(int argc, char *argv[]) { return fuse_main(argc, argv, &ops, NULL); }
