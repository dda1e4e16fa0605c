/* scripts/kernel-lab/fp.c - the floating-point side of one heat update
 * alone, from registers (no loads, no stores): 2 adds, 1 multiply and 2 FMAs
 * per 128-bit pair of cells (parsim's update), the unfused 4 adds + 3
 * multiplies, and the first with 2 shuffles more (w and e made from
 * registers). Prints ns per cell; divide by the clock (scripts/clock.c)
 * for cycles. On this Zen 1 (2.4 GHz): 0.42-0.45, 0.44-0.49 and 0.57-0.80
 * ns: about 1.05 cycles a cell for the FP work alone, well above the 0.75
 * that counting FMA-pipe micro-ops gives (a likely cause, reported for
 * Zen 1 but not verified here: an FMA holds resources of an add pipe).
 *
 *   gcc -O2 -mavx2 -mfma -o fp fp.c && ./fp
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
int main(){
  long it=100000000;
  __m128d cx=_mm_set1_pd(0.1), cy=_mm_set1_pd(0.2), k=_mm_set1_pd(0.3);
  __m128d a[8],b[8],c[8];
  for(int i=0;i<8;i++){a[i]=_mm_set1_pd(1.0+i);b[i]=_mm_set1_pd(2.0+i);c[i]=_mm_set1_pd(3.0+i);}
  __m128d acc=_mm_setzero_pd();
  for(int mode=0;mode<3;mode++)
  for(int rep=0;rep<2;rep++){
  double t0=now();
  for(long i=0;i<it;i++){
    #pragma GCC unroll 4
    for(int t=0;t<4;t++){
      __m128d x=a[t], y=b[t], z=c[t];
      __asm__ volatile("" : "+x"(x), "+x"(y), "+x"(z));
      __m128d r;
      if(mode==0) r=_mm_fmadd_pd(cy,_mm_add_pd(x,y),_mm_fmadd_pd(cx,_mm_add_pd(y,z),_mm_mul_pd(k,x)));
      else if(mode==1) r=_mm_add_pd(_mm_mul_pd(cy,_mm_add_pd(x,y)),_mm_add_pd(_mm_mul_pd(cx,_mm_add_pd(y,z)),_mm_mul_pd(k,x)));
      else r=_mm_fmadd_pd(cy,_mm_add_pd(_mm_shuffle_pd(x,y,1),_mm_shuffle_pd(y,z,1)),_mm_fmadd_pd(cx,_mm_add_pd(y,z),_mm_mul_pd(k,x)));
      __asm__ volatile("" : "+x"(r));
      (void)acc;
    }
  }
  double dt=now()-t0; printf("mode %d (%s): %.3f ns per cell\n", mode, mode==0?"2 add, mul, 2 fma":mode==1?"4 add, 3 mul":"2 add, mul, 2 fma, 2 shuf", dt/it/8*1e9);}
}
