/* pirec_kernels.c - see pirec_kernels.h. Eight outputs at a time are summed in a register
 * across all taps (vector types, lowered per target: one AVX-512 register, two AVX2 or
 * four SSE2 ones), then stored once. */
#include "pirec_kernels.h"

#if defined(__x86_64__) && defined(__ELF__)
#define PIREC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PIREC_CLONES
#endif

/* Eight doubles; aligned(8) allows unaligned addresses. */
typedef double v8d __attribute__((vector_size(64), aligned(8)));

PIREC_CLONES
void pirec_symmetric_rows(const double *centre, const double *const *above, const double *const *below,
                          double *dst, size_t count, const double *k, size_t radius) {
    size_t x = 0;
    for (; x + 8 <= count; x += 8) {
        v8d sum = *(const v8d *)(centre + x) * k[0];
        for (size_t t = radius; t >= 1; t--)
            sum = sum + (*(const v8d *)(above[t] + x) + *(const v8d *)(below[t] + x)) * k[t];
        *(v8d *)(dst + x) = sum;
    }
    for (; x < count; x++) {
        double sum = centre[x] * k[0];
        for (size_t t = radius; t >= 1; t--) sum = sum + (above[t][x] + below[t][x]) * k[t];
        dst[x] = sum;
    }
}

PIREC_CLONES
void pirec_symmetric_row(const double *src, double *dst, size_t count, const double *k, size_t radius) {
    size_t x = 0;
    for (; x + 8 <= count; x += 8) {
        v8d sum = *(const v8d *)(src + x) * k[0];
        for (size_t t = radius; t >= 1; t--)
            sum = sum + (*(const v8d *)(src + x - t) + *(const v8d *)(src + x + t)) * k[t];
        *(v8d *)(dst + x) = sum;
    }
    for (; x < count; x++) {
        double sum = src[x] * k[0];
        for (size_t t = radius; t >= 1; t--) sum = sum + (src[x - t] + src[x + t]) * k[t];
        dst[x] = sum;
    }
}

static inline double exact_level(float v) {
    if (!(v >= 0.0f && v <= 1.0f)) return (double)v; /* NaN too */
    float level = (float)(int)(v * 255.0f + 0.5f);
    return level * (1.0f / 255.0f) == v ? (double)level * (1.0 / 255.0) : (double)v;
}

PIREC_CLONES
void pirec_luminance(const float *src, size_t channels, double *dst, size_t count) {
    if (channels == 1) {
        for (size_t x = 0; x < count; x++) dst[x] = exact_level(src[x]);
        return;
    }
    for (size_t x = 0; x < count; x++) {
        double sum = exact_level(src[3 * x]) * 0.2125;
        sum = sum + exact_level(src[3 * x + 1]) * 0.7154;
        sum = sum + exact_level(src[3 * x + 2]) * 0.0721;
        dst[x] = sum;
    }
}
