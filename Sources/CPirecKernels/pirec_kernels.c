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

typedef float v16f __attribute__((vector_size(64), aligned(4)));

PIREC_CLONES
void pirec_conv_direct3(const float *in, size_t cin, size_t ph, size_t pw, const float *w, const float *bias,
                        size_t k, float *out, size_t ho, size_t wo, size_t y0, size_t y1) {
    const size_t kk = k * k, plane = ph * pw;
    const float *w0 = w, *w1 = w + cin * kk, *w2 = w + 2 * cin * kk;
    for (size_t y = y0; y < y1; y++) {
        float *o0 = out + y * wo, *o1 = o0 + ho * wo, *o2 = o1 + ho * wo;
        size_t x = 0;
        for (; x + 16 <= wo; x += 16) {
            v16f a0 = {0}, a1 = {0}, a2 = {0};
            for (size_t ci = 0; ci < cin; ci++) {
                for (size_t ki = 0; ki < k; ki++) {
                    const float *row = in + ci * plane + (y + ki) * pw + x;
                    const size_t base = ci * kk + ki * k;
                    for (size_t kj = 0; kj < k; kj++) {
                        v16f v = *(const v16f *)(row + kj);
                        a0 += v * w0[base + kj];
                        a1 += v * w1[base + kj];
                        a2 += v * w2[base + kj];
                    }
                }
            }
            for (size_t i = 0; i < 16; i++) {
                o0[x + i] = a0[i] + bias[0];
                o1[x + i] = a1[i] + bias[1];
                o2[x + i] = a2[i] + bias[2];
            }
        }
        for (; x < wo; x++) {
            float s0 = 0, s1 = 0, s2 = 0;
            for (size_t ci = 0; ci < cin; ci++)
                for (size_t ki = 0; ki < k; ki++) {
                    const float *row = in + ci * plane + (y + ki) * pw + x;
                    const size_t base = ci * kk + ki * k;
                    for (size_t kj = 0; kj < k; kj++) {
                        s0 += row[kj] * w0[base + kj];
                        s1 += row[kj] * w1[base + kj];
                        s2 += row[kj] * w2[base + kj];
                    }
                }
            o0[x] = s0 + bias[0];
            o1[x] = s1 + bias[1];
            o2[x] = s2 + bias[2];
        }
    }
}
