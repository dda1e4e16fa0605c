/* scripts/clock.c - the clock a core actually runs at, measured: a chain of
 * dependent integer additions (one cycle of latency each on every x86 core
 * since the Pentium Pro) timed by the wall clock. bench.sh turns MLUPS into
 * cycles per update with it. Why not /proc/cpuinfo: in a virtual machine
 * (and under turbo) "cpu MHz" is the nominal clock, not the running one,
 * and this VM exposes no cycle counter to perf.
 *
 *   cc -O2 -o clock scripts/clock.c && ./clock      prints  mhz=2994.7
 *
 * Best of 5 runs of 1e9 additions (about 0.3-0.5 s each).
 */
#include <stdio.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(void) {
  const unsigned long iters = 125000000UL; /* 8 dependent adds each */
  double best = 1e30;
  unsigned long x = 0;
  for (int run = 0; run < 5; run++) {
    double t0 = now();
    for (unsigned long i = 0; i < iters; i++) {
#if defined(__x86_64__) || defined(__i386__)
      __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                       "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
                       : "+r"(x));
#else
      __asm__ volatile("add %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\t"
                       "add %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1"
                       : "+r"(x));
#endif
    }
    double dt = now() - t0;
    if (dt < best) best = dt;
  }
  if (x != 5 * 8 * iters) return 1;
  printf("mhz=%.1f\n", 8.0 * iters / best / 1e6);
  return 0;
}
