/* scripts/kernel-lab/ports.c - how many loads and stores one core issues
 * per cycle, measured (L1-resident, aligned, 256-bit): 8 loads, 8 loads + 2
 * stores, 2 stores per iteration, in ns; divide by the clock
 * (scripts/clock.c) for cycles. On this Zen 1: 8 loads 8.6 cycles, 8 loads
 * + 2 stores 10.4, 2 stores 4.1: two 128-bit memory operations per cycle,
 * loads and stores together, at most one a store.
 *
 *   gcc -O2 -mavx2 -mfma -o ports ports.c && ./ports
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
double buf[1024] __attribute__((aligned(64)));
double out[1024] __attribute__((aligned(64)));
int main(){
  long it=200000000; double best;
  // A: 8 ymm loads per iteration (L1, aligned), summed into 4 accumulators
  __m256d a0=_mm256_setzero_pd(),a1=a0,a2=a0,a3=a0;
  for(int rep=0;rep<2;rep++){
  double t0=now();
  for(long i=0;i<it;i++){ const double*p=buf+((i&15)*32);
    a0=_mm256_add_pd(a0,_mm256_load_pd(p)); a1=_mm256_add_pd(a1,_mm256_load_pd(p+4));
    a2=_mm256_add_pd(a2,_mm256_load_pd(p+8)); a3=_mm256_add_pd(a3,_mm256_load_pd(p+12));
    a0=_mm256_add_pd(a0,_mm256_load_pd(p+16)); a1=_mm256_add_pd(a1,_mm256_load_pd(p+20));
    a2=_mm256_add_pd(a2,_mm256_load_pd(p+24)); a3=_mm256_add_pd(a3,_mm256_load_pd(p+28)); }
  best=now()-t0; printf("8 ymm loads: %.2f ns/iter\n", best/it*1e9);}
  // B: 8 loads + 2 stores
  for(int rep=0;rep<2;rep++){
  double t0=now();
  for(long i=0;i<it;i++){ const double*p=buf+((i&15)*32); double*q=out+((i&15)*32);
    __m256d x0=_mm256_load_pd(p), x1=_mm256_load_pd(p+4), x2=_mm256_load_pd(p+8), x3=_mm256_load_pd(p+12);
    __m256d y0=_mm256_load_pd(p+16), y1=_mm256_load_pd(p+20), y2=_mm256_load_pd(p+24), y3=_mm256_load_pd(p+28);
    _mm256_store_pd(q,_mm256_add_pd(_mm256_add_pd(x0,x1),_mm256_add_pd(x2,x3)));
    _mm256_store_pd(q+4,_mm256_add_pd(_mm256_add_pd(y0,y1),_mm256_add_pd(y2,y3))); }
  best=now()-t0; printf("8 ymm loads + 2 ymm stores: %.2f ns/iter\n", best/it*1e9);}
  // C: 2 stores only
  for(int rep=0;rep<2;rep++){
  double t0=now();
  for(long i=0;i<it;i++){ double*q=out+((i&15)*32);
    _mm256_store_pd(q,a0); _mm256_store_pd(q+4,a1);}
  best=now()-t0; printf("2 ymm stores: %.2f ns/iter\n", best/it*1e9);}
  _mm256_store_pd(out,_mm256_add_pd(_mm256_add_pd(a0,a1),_mm256_add_pd(a2,a3)));
  printf("%g\n",out[0]+out[5]);
}
