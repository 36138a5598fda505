/* Benchmark reader: T threads each loop open + read-to-EOF + close on one file for S seconds,
 * recording every cycle's latency; prints one JSON object with the rate and percentiles.
 * Usage: reader PATH THREADS SECONDS */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES (1 << 21)

struct worker { const char *path; double seconds; long ops; long errors; long count; unsigned *lat_ns; };

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void *run(void *arg) {
  struct worker *w = arg;
  char buf[4096];
  double end = now_s() + w->seconds;
  for (;;) {
    double t0 = now_s();
    if (t0 >= end) break;
    int fd = open(w->path, O_RDONLY);
    if (fd < 0) { w->errors++; continue; }
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {}
    if (n < 0) w->errors++;
    close(fd);
    double dt = now_s() - t0;
    if (w->count < MAX_SAMPLES) w->lat_ns[w->count++] = (unsigned)(dt * 1e9);
    w->ops++;
  }
  return NULL;
}

static int cmp(const void *a, const void *b) {
  unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: reader PATH THREADS SECONDS\n"); return 2; }
  int threads = atoi(argv[2]);
  double seconds = atof(argv[3]);
  struct worker *w = calloc(threads, sizeof *w);
  pthread_t *tid = calloc(threads, sizeof *tid);
  for (int i = 0; i < threads; i++) {
    w[i].path = argv[1];
    w[i].seconds = seconds;
    w[i].lat_ns = malloc(sizeof(unsigned) * MAX_SAMPLES);
    pthread_create(&tid[i], NULL, run, &w[i]);
  }
  long ops = 0, errors = 0, count = 0;
  for (int i = 0; i < threads; i++) { pthread_join(tid[i], NULL); ops += w[i].ops; errors += w[i].errors; count += w[i].count; }
  unsigned *all = malloc(sizeof(unsigned) * (count ? count : 1));
  long k = 0;
  for (int i = 0; i < threads; i++) { memcpy(all + k, w[i].lat_ns, sizeof(unsigned) * w[i].count); k += w[i].count; }
  qsort(all, count, sizeof(unsigned), cmp);
  double p50 = count ? all[(long)(count * 0.50)] / 1e3 : 0;
  double p99 = count ? all[(long)(count * 0.99)] / 1e3 : 0;
  double max = count ? all[count - 1] / 1e3 : 0;
  printf("{\"threads\":%d,\"seconds\":%g,\"ops\":%ld,\"errors\":%ld,\"ops_per_s\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}\n",
         threads, seconds, ops, errors, ops / seconds, p50, p99, max);
  return errors ? 1 : 0;
}
