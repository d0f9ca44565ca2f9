/* Is qemu's x86 emulation bit-exact? The AVX2, FMA and SSE instructions ONNX Runtime's kernels use
 * (saturating u8 x s8 pair sums, 16-bit pair sums, fused and separate multiply-add, max, rounding
 * conversion) on 2 million pseudo-random inputs; prints a digest of every result bit. Run natively and
 * under `qemu-x86_64-static -cpu Haswell`: the same digest means the same bits. Built and run by
 * bench_numerics.sh (gcc -O2). */
#include <immintrin.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
static uint64_t s = 88172645463325252ull;
static uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
__attribute__((target("avx2,fma"))) int main(void) {
    uint64_t h = 1469598103934665603ull; int sat = 0;
    for (int it = 0; it < 2000000; it++) {
        uint8_t a[32], b[32]; float f[24];
        for (int i = 0; i < 32; i++) { a[i] = rnd(); b[i] = rnd(); }
        for (int i = 0; i < 24; i++) { uint32_t r = rnd(); f[i] = (float)(int32_t)r / 3e5f * ((r & 1) ? 1e-3f : 1.f); }
        __m256i va = _mm256_loadu_si256((void*)a), vb = _mm256_loadu_si256((void*)b);
        __m256i m = _mm256_maddubs_epi16(va, vb);                 /* u8 x s8 pairs, int16 saturating */
        __m256i w = _mm256_madd_epi16(m, _mm256_set1_epi16(1));
        __m128i p = _mm_maddubs_epi16(_mm_loadu_si128((void*)a), _mm_loadu_si128((void*)b));
        __m256 x = _mm256_loadu_ps(f), y = _mm256_loadu_ps(f + 8), z = _mm256_loadu_ps(f + 16);
        __m256 fm = _mm256_fmadd_ps(x, y, z), mu = _mm256_add_ps(_mm256_mul_ps(x, y), z);
        __m128 sx = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(f), _mm_loadu_ps(f + 4)), _mm_loadu_ps(f + 8));
        __m256 mx = _mm256_max_ps(fm, _mm256_setzero_ps());
        __m256i cv = _mm256_cvtps_epi32(_mm256_mul_ps(fm, _mm256_set1_ps(0.37f)));
        unsigned char buf[32 * 6 + 16 * 2];
        memcpy(buf, &m, 32); memcpy(buf + 32, &w, 32); memcpy(buf + 64, &fm, 32); memcpy(buf + 96, &mu, 32);
        memcpy(buf + 128, &mx, 32); memcpy(buf + 160, &cv, 32); memcpy(buf + 192, &p, 16); memcpy(buf + 208, &sx, 16);
        for (size_t i = 0; i < sizeof buf; i++) { h ^= buf[i]; h *= 1099511628211ull; }
        int16_t m16[16]; memcpy(m16, &m, 32);
        for (int i = 0; i < 16; i++) sat += (m16[i] == 32767 || m16[i] == -32768);
    }
    printf("digest %016llx, saturated int16 lanes %d\n", (unsigned long long)h, sat);
    return 0;
}
