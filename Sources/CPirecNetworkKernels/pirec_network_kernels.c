/* pirec_network_kernels.c - see pirec_network_kernels.h. Sixteen outputs at a time are summed
 * in registers across all taps (vector types, lowered per target), then stored once. */
#include "pirec_network_kernels.h"

#include <stddef.h>

#if defined(__x86_64__) && defined(__ELF__)
#define PIREC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PIREC_CLONES
#endif

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

typedef float v8f __attribute__((vector_size(32), aligned(4)));
typedef double v8d __attribute__((vector_size(64)));

PIREC_CLONES
void pirec_instance_norm(float *p, size_t n, double epsilon, int relu) {
    /* Sum and sum of squares in float64, eight lanes and two chains each (a scalar float64
     * sum is one add per add-latency: the Swift loop this replaced spent 8 % of a network
     * there). */
    v8d s0 = {0}, s1 = {0}, q0 = {0}, q1 = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v8d a = __builtin_convertvector(*(const v8f *)(p + i), v8d);
        v8d b = __builtin_convertvector(*(const v8f *)(p + i + 8), v8d);
        s0 += a;
        s1 += b;
        q0 += a * a;
        q1 += b * b;
    }
    double sum = 0, squares = 0;
    for (int l = 0; l < 8; l++) {
        sum += s0[l] + s1[l];
        squares += q0[l] + q1[l];
    }
    for (; i < n; i++) {
        sum += p[i];
        squares += (double)p[i] * p[i];
    }
    const double mean = sum / (double)n;
    double variance = squares / (double)n - mean * mean;
    if (variance < 0) variance = 0;
    const float scale = (float)(1 / __builtin_sqrt(variance + epsilon)), shift = (float)-mean * scale;
    i = 0;
    for (; i + 16 <= n; i += 16) {
        v16f v = *(const v16f *)(p + i) * scale + shift;
        if (relu) v = __builtin_elementwise_max(v, (v16f){0});
        *(v16f *)(p + i) = v;
    }
    for (; i < n; i++) {
        const float v = p[i] * scale + shift;
        p[i] = relu && v < 0 ? 0 : v;
    }
}
