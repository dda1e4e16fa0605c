/* scripts/kernel-lab/stencil.c - the heat update's inner loop in C, four
 * ways, to try kernel ideas before they go into src/heat (same expression
 * fma(cy, s + n, fma(cx, w + e, k c)), so every variant gives the same sum):
 *   0 ymm2: 256-bit, two rows per pass, w/c/e as three unaligned loads (parsim today)
 *   1 xmm2: 128-bit, two rows per pass, w and e made from registers (shufpd)
 *   2 xmm4: 128-bit, four rows per pass, w and e from registers
 *   3 ymm2u: variant 0 unrolled twice (8 columns an iteration; LLVM does not
 *     unroll parsim's two-row loop: 6-20 % faster here in C, no gain in parsim)
 *
 *   gcc -O3 -mavx2 -mfma -o stencil stencil.c
 *   ./stencil N PAD OFF STEPS VARIANT [VOFF]   e.g. ./stencil 160 6 3 10000 1
 * N x N interior, rows of N+2+PAD doubles, the field starting OFF doubles into
 * a 4 KiB-aligned buffer (OFF=3 puts the interior at 32 bytes), the second
 * field VOFF doubles further into its own (default 259); prints MLUPS
 * and the field's sum. Run each variant several times, interleaved, and
 * compare the best: this VM's rates swing by 30 %.
 */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
// 256-bit, two rows per pass; UNR is the inner loop's unroll pragma
#define SWEEP_YMM(NAME, UNR) \
static void NAME(const double*restrict u, double*restrict v, int n, int ny, int w, double cx, double cy, double k){ \
  __m256d vcx=_mm256_set1_pd(cx), vcy=_mm256_set1_pd(cy), vk=_mm256_set1_pd(k); \
  for (int j=1;j+1<=ny;j+=2){ \
    const double *s=u+(j-1)*w, *r1=u+j*w, *r2=u+(j+1)*w, *nn=u+(j+2)*w; \
    double *o0=v+j*w, *o1=v+(j+1)*w; \
    _Pragma(UNR) \
    for (int i=1;i<=n;i+=4){ \
      __m256d c1=_mm256_loadu_pd(r1+i), c2=_mm256_loadu_pd(r2+i); \
      __m256d we1=_mm256_add_pd(_mm256_loadu_pd(r1+i-1),_mm256_loadu_pd(r1+i+1)); \
      __m256d we2=_mm256_add_pd(_mm256_loadu_pd(r2+i-1),_mm256_loadu_pd(r2+i+1)); \
      __m256d sn1=_mm256_add_pd(_mm256_loadu_pd(s+i),c2); \
      __m256d sn2=_mm256_add_pd(c1,_mm256_loadu_pd(nn+i)); \
      _mm256_storeu_pd(o0+i,_mm256_fmadd_pd(vcy,sn1,_mm256_fmadd_pd(vcx,we1,_mm256_mul_pd(vk,c1)))); \
      _mm256_storeu_pd(o1+i,_mm256_fmadd_pd(vcy,sn2,_mm256_fmadd_pd(vcx,we2,_mm256_mul_pd(vk,c2)))); \
    } \
  } \
}
SWEEP_YMM(sweep_ymm, "GCC unroll 1")
SWEEP_YMM(sweep_ymm_u2, "GCC unroll 2")
// 128-bit, w/e from registers (shufpd), R rows per pass
#define XL(p) _mm_loadu_pd(p)
static void sweep_xmm2(const double*restrict u, double*restrict v, int n, int ny, int w, double cx, double cy, double k){
  __m128d vcx=_mm_set1_pd(cx), vcy=_mm_set1_pd(cy), vk=_mm_set1_pd(k);
  for (int j=1;j+1<=ny;j+=2){
    const double *s=u+(j-1)*w, *r1=u+j*w, *r2=u+(j+1)*w, *nn=u+(j+2)*w;
    double *o0=v+j*w, *o1=v+(j+1)*w;
    // c: columns i, i+1; q: the pair before; w and e by shufpd from them
    __m128d c1=XL(r1+1), c2=XL(r2+1);
    __m128d q1=XL(r1-1), q2=XL(r2-1);
    for (int i=1;i<=n;i+=2){
      __m128d n1=XL(r1+i+2), n2=XL(r2+i+2);
      __m128d w1=_mm_shuffle_pd(q1,c1,1), e1=_mm_shuffle_pd(c1,n1,1);
      __m128d w2=_mm_shuffle_pd(q2,c2,1), e2=_mm_shuffle_pd(c2,n2,1);
      __m128d sn1=_mm_add_pd(XL(s+i),c2), sn2=_mm_add_pd(c1,XL(nn+i));
      _mm_storeu_pd(o0+i,_mm_fmadd_pd(vcy,sn1,_mm_fmadd_pd(vcx,_mm_add_pd(w1,e1),_mm_mul_pd(vk,c1))));
      _mm_storeu_pd(o1+i,_mm_fmadd_pd(vcy,sn2,_mm_fmadd_pd(vcx,_mm_add_pd(w2,e2),_mm_mul_pd(vk,c2))));
      q1=c1; c1=n1; q2=c2; c2=n2;
    }
  }
}
static void sweep_xmm4(const double*restrict u, double*restrict v, int n, int ny, int w, double cx, double cy, double k){
  __m128d vcx=_mm_set1_pd(cx), vcy=_mm_set1_pd(cy), vk=_mm_set1_pd(k);
  for (int j=1;j+3<=ny;j+=4){
    const double *s=u+(j-1)*w, *r[4]={u+j*w,u+(j+1)*w,u+(j+2)*w,u+(j+3)*w}, *nn=u+(j+4)*w;
    double *o[4]={v+j*w,v+(j+1)*w,v+(j+2)*w,v+(j+3)*w};
    __m128d q[4], c[4];
    for(int t=0;t<4;t++){ q[t]=XL(r[t]-1); c[t]=XL(r[t]+1); }
    for (int i=1;i<=n;i+=2){
      __m128d nx[4];
      for(int t=0;t<4;t++) nx[t]=XL(r[t]+i+2);
      __m128d below=XL(s+i), above=XL(nn+i);
      for(int t=0;t<4;t++){
        __m128d we=_mm_add_pd(_mm_shuffle_pd(q[t],c[t],1),_mm_shuffle_pd(c[t],nx[t],1));
        __m128d sn=_mm_add_pd(t==0?below:c[t-1], t==3?above:c[t+1]);
        _mm_storeu_pd(o[t]+i,_mm_fmadd_pd(vcy,sn,_mm_fmadd_pd(vcx,we,_mm_mul_pd(vk,c[t]))));
      }
      for(int t=0;t<4;t++){ q[t]=c[t]; c[t]=nx[t]; }
    }
  }
}
typedef void (*sweep_fn)(const double*restrict, double*restrict, int, int, int, double, double, double);
/* The variants by number, as listed at the top. */
static const struct { const char *name; sweep_fn f; } variants[]={
  {"ymm2",sweep_ymm}, {"xmm2",sweep_xmm2}, {"xmm4",sweep_xmm4}, {"ymm2u",sweep_ymm_u2},
};
int main(int argc,char**argv){
  if(argc<6){fprintf(stderr,"usage: %s N PAD OFF STEPS VARIANT [VOFF]\n",argv[0]);return 2;}
  int n=atoi(argv[1]); int pad=atoi(argv[2]); int off=atoi(argv[3]); long steps=atol(argv[4]); int which=atoi(argv[5]);
  int voff=argc>6?atoi(argv[6]):259; /* where the second field starts against the first, mod 4 KiB */
  int nv=(int)(sizeof variants/sizeof variants[0]);
  if(which<0||which>=nv){fprintf(stderr,"VARIANT must be 0..%d\n",nv-1);return 2;}
  int w=n+2+pad, ny=n;
  size_t sz=(size_t)(ny+2)*w+64;
  double *A=aligned_alloc(4096,(sz*8+8192)/4096*4096+8192), *B=aligned_alloc(4096,(sz*8+8192)/4096*4096+8192);
  double *u=A+off, *v=B+off+voff;
  for(size_t i=0;i<sz;i++){u[i]=1.0+(i*7919)%13; v[i]=u[i];}
  double t0=now();
  for(long s=0;s<steps;s++){ variants[which].f(u,v,n,ny,w,0.1,0.1,0.6); double*t=u;u=v;v=t;}
  double dt=now()-t0;
  double sum=0; for(int j=1;j<=ny;j++) for(int i=1;i<=n;i++) sum+=u[j*w+i];
  printf("%s n=%d w=%d off=%d voff=%d: %.0f MLUPS (sum %.15g)\n",variants[which].name,n,w,off,voff,(double)n*ny*steps/dt/1e6,sum);
}
