/* pirec_kernels.c - see pirec_kernels.h. Eight outputs at a time are summed in a register
 * across all taps (vector types, lowered per target: one AVX-512 register, two AVX2 or
 * four SSE2 ones), then stored once. */
#include "pirec_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__ELF__)
#define PIREC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PIREC_CLONES
#endif

/* Eight doubles; aligned(8) allows unaligned addresses. */
typedef double v8d __attribute__((vector_size(64), aligned(8)));

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
    /* Branch-free so it vectorises: out of [0, 1] (or NaN) the comparison fails. */
    const float clamped = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    const float level = floorf(clamped * 255.0f + 0.5f);
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

/* pirec_symmetric_row, each sum then divided by divisor[x] (one rounding, as `sum / d`). */
static inline void symmetric_row_divided(const double *src, double *dst, size_t count, const double *k,
                                         size_t radius, const double *divisor) {
    size_t x = 0;
    for (; x + 32 <= count; x += 32) {
        const double *p = src + x;
        v8d s0 = *(const v8d *)p * k[0], s1 = *(const v8d *)(p + 8) * k[0];
        v8d s2 = *(const v8d *)(p + 16) * k[0], s3 = *(const v8d *)(p + 24) * k[0];
        for (size_t t = radius; t >= 1; t--) {
            s0 = s0 + (*(const v8d *)(p - t) + *(const v8d *)(p + t)) * k[t];
            s1 = s1 + (*(const v8d *)(p + 8 - t) + *(const v8d *)(p + 8 + t)) * k[t];
            s2 = s2 + (*(const v8d *)(p + 16 - t) + *(const v8d *)(p + 16 + t)) * k[t];
            s3 = s3 + (*(const v8d *)(p + 24 - t) + *(const v8d *)(p + 24 + t)) * k[t];
        }
        *(v8d *)(dst + x) = s0 / *(const v8d *)(divisor + x);
        *(v8d *)(dst + x + 8) = s1 / *(const v8d *)(divisor + x + 8);
        *(v8d *)(dst + x + 16) = s2 / *(const v8d *)(divisor + x + 16);
        *(v8d *)(dst + x + 24) = s3 / *(const v8d *)(divisor + x + 24);
    }
    for (; x + 8 <= count; x += 8) {
        v8d sum = *(const v8d *)(src + x) * k[0];
        for (size_t t = radius; t >= 1; t--)
            sum = sum + (*(const v8d *)(src + x - t) + *(const v8d *)(src + x + t)) * k[t];
        *(v8d *)(dst + x) = sum / *(const v8d *)(divisor + x);
    }
    for (; x < count; x++) {
        double sum = src[x] * k[0];
        for (size_t t = radius; t >= 1; t--) sum = sum + (src[x - t] + src[x + t]) * k[t];
        dst[x] = sum / divisor[x];
    }
}

PIREC_CLONES
int pirec_gaussian_blur(const double *src, double *dst, size_t w, size_t h, const double *k, size_t radius,
                        const double *weights) {
    const size_t padded = w + 2 * radius;
    double *buffer = malloc(sizeof(double) * (2 * padded + 2 * w));
    if (!buffer) return -1;
    double *row = buffer, *ones = buffer + padded, *divisor = buffer + 2 * padded, *zero = divisor + w;
    memset(buffer, 0, sizeof(double) * (2 * padded + 2 * w));
    const double *above[radius + 1], *below[radius + 1];
    double weight = __builtin_nan("");
    for (size_t y = 0; y < h; y++) {
        /* Along columns into the middle of `row`, rows outside the image are zeros. Four
         * vectors at a time: each sum is a chain of dependent adds, so independent chains
         * keep the adder busy. */
        for (size_t t = 1; t <= radius; t++) {
            above[t] = y >= t ? src + (y - t) * w : zero;
            below[t] = y + t < h ? src + (y + t) * w : zero;
        }
        const double *centre = src + y * w;
        double *out = row + radius;
        size_t x = 0;
        for (; x + 32 <= w; x += 32) {
            v8d s0 = *(const v8d *)(centre + x) * k[0], s1 = *(const v8d *)(centre + x + 8) * k[0];
            v8d s2 = *(const v8d *)(centre + x + 16) * k[0], s3 = *(const v8d *)(centre + x + 24) * k[0];
            for (size_t t = radius; t >= 1; t--) {
                const double *a = above[t] + x, *b = below[t] + x;
                s0 = s0 + (*(const v8d *)a + *(const v8d *)b) * k[t];
                s1 = s1 + (*(const v8d *)(a + 8) + *(const v8d *)(b + 8)) * k[t];
                s2 = s2 + (*(const v8d *)(a + 16) + *(const v8d *)(b + 16)) * k[t];
                s3 = s3 + (*(const v8d *)(a + 24) + *(const v8d *)(b + 24)) * k[t];
            }
            *(v8d *)(out + x) = s0;
            *(v8d *)(out + x + 8) = s1;
            *(v8d *)(out + x + 16) = s2;
            *(v8d *)(out + x + 24) = s3;
        }
        for (; x + 8 <= w; x += 8) {
            v8d sum = *(const v8d *)(centre + x) * k[0];
            for (size_t t = radius; t >= 1; t--)
                sum = sum + (*(const v8d *)(above[t] + x) + *(const v8d *)(below[t] + x)) * k[t];
            *(v8d *)(out + x) = sum;
        }
        for (; x < w; x++) {
            double sum = centre[x] * k[0];
            for (size_t t = radius; t >= 1; t--) sum = sum + (above[t][x] + below[t][x]) * k[t];
            out[x] = sum;
        }
        /* The bleed-over divisor: the same row filter on the column weight inside the image
         * (weights[y]) spread over the row, plus epsilon. It changes only near the top and
         * bottom. */
        if (weights[y] != weight) {
            weight = weights[y];
            for (size_t i = 0; i < w; i++) ones[radius + i] = weight;
            pirec_symmetric_row(ones + radius, divisor, w, k, radius);
            for (size_t i = 0; i < w; i++) divisor[i] = divisor[i] + __DBL_EPSILON__;
        }
        symmetric_row_divided(row + radius, dst + y * w, w, k, radius, divisor);
    }
    free(buffer);
    return 0;
}

/* One row of Sobel gradients (scipy.ndimage.sobel, mirrored borders, scipy's order of
 * operations) and their magnitude; w >= 2. `work` holds w + 2 doubles. */
static inline void sobel_row(const double *up, const double *mid, const double *down, size_t w, double *dy,
                             double *dx, double *mag, double *work) {
    double *d = work + 1;
    for (size_t x = 0; x < w; x++) d[x] = down[x] - up[x];
    d[-1] = d[0];
    d[w] = d[w - 1];
    for (size_t x = 0; x < w; x++) dy[x] = d[x] * 2 + (d[x - 1] + d[x + 1]);
    dx[0] = (mid[1] - mid[0]) * 2 + ((up[1] - up[0]) + (down[1] - down[0]));
    dx[w - 1] = (mid[w - 1] - mid[w - 2]) * 2 + ((up[w - 1] - up[w - 2]) + (down[w - 1] - down[w - 2]));
    for (size_t x = 1; x + 1 < w; x++)
        dx[x] = (mid[x + 1] - mid[x - 1]) * 2 + ((up[x + 1] - up[x - 1]) + (down[x + 1] - down[x - 1]));
    for (size_t x = 0; x < w; x++) mag[x] = sqrt(dy[x] * dy[x] + dx[x] * dx[x]);
}

PIREC_CLONES
int pirec_canny_maxima(const double *smoothed, size_t w, size_t h, double low, double high, uint8_t *classes) {
    memset(classes, 0, w * h);
    if (w < 3 || h < 3) return 0;
    /* Three magnitude rows (above, this, below), two gradient rows (this, below), work. */
    double *buffer = malloc(sizeof(double) * (8 * w + 2));
    if (!buffer) return -1;
    double *mag[3] = {buffer, buffer + w, buffer + 2 * w};
    double *gy[2] = {buffer + 3 * w, buffer + 4 * w}, *gx[2] = {buffer + 5 * w, buffer + 6 * w};
    double *work = buffer + 7 * w;
#define ROW(y) (smoothed + (y) * w)
    sobel_row(ROW(0), ROW(0), ROW(1), w, gy[0], gx[0], mag[0], work);
    sobel_row(ROW(0), ROW(1), ROW(2), w, gy[1], gx[1], mag[1], work);
    for (size_t y = 1; y + 1 < h; y++) {
        /* Rotate: mag[0] is row y - 1, mag[1] row y; compute row y + 1 into mag[2]. */
        const size_t below = y + 2 < h ? y + 2 : h - 1;
        double *gyRow = gy[1], *gxRow = gx[1];
        gy[1] = gy[0];
        gx[1] = gx[0];
        gy[0] = gyRow;
        gx[0] = gxRow;
        sobel_row(ROW(y), ROW(y + 1), ROW(below), w, gy[1], gx[1], mag[2], work);
        const double *up = mag[0], *m = mag[1], *down = mag[2];
        uint8_t *out = classes + y * w;
        for (size_t x = 1; x + 1 < w; x++) {
            const double v = m[x];
            if (!(v >= low)) continue;
            const double gyv = gyRow[x], gxv = gxRow[x];
            const int isDown = gyv <= 0, isLeft = gxv <= 0;
            const double ay = fabs(gyv), ax = fabs(gxv);
            double n1a, n1b, n2a, n2b, weight;
            if (isDown == isLeft) {
                if (ay > ax) {
                    weight = ax / ay;
                    n1a = down[x]; n1b = down[x + 1]; n2a = up[x]; n2b = up[x - 1];
                } else {
                    weight = ay / ax;
                    n1a = m[x + 1]; n1b = down[x + 1]; n2a = m[x - 1]; n2b = up[x - 1];
                }
            } else if (ay < ax) {
                weight = ay / ax;
                n1a = m[x + 1]; n1b = up[x + 1]; n2a = m[x - 1]; n2b = down[x - 1];
            } else {
                weight = ax / ay;
                n1a = up[x]; n1b = up[x + 1]; n2a = down[x]; n2b = down[x - 1];
            }
            if (n1b * weight + n1a * (1 - weight) <= v && n2b * weight + n2a * (1 - weight) <= v)
                out[x] = v >= high ? 2 : 1;
        }
        double *oldest = mag[0];
        mag[0] = mag[1];
        mag[1] = mag[2];
        mag[2] = oldest;
    }
#undef ROW
    free(buffer);
    return 0;
}

void pirec_canny_hysteresis(uint8_t *classes, size_t w, size_t h, int32_t *stack) {
    const size_t n = w * h;
    for (size_t seed = 0; seed < n; seed++) {
        const uint8_t *next = memchr(classes + seed, 2, n - seed);
        if (!next) break;
        seed = (size_t)(next - classes);
        size_t top = 0;
        classes[seed] = 3;
        stack[top++] = (int32_t)seed;
        while (top) {
            const size_t i = (size_t)stack[--top], y = i / w, x = i - y * w;
            const size_t y0 = y ? y - 1 : 0, y1 = y + 1 < h ? y + 1 : y;
            const size_t x0 = x ? x - 1 : 0, x1 = x + 1 < w ? x + 1 : x;
            for (size_t ny = y0; ny <= y1; ny++)
                for (size_t nx = x0; nx <= x1; nx++) {
                    const size_t j = ny * w + nx;
                    if (classes[j] == 1 || classes[j] == 2) {
                        classes[j] = 3;
                        stack[top++] = (int32_t)j;
                    }
                }
        }
    }
    for (size_t i = 0; i < n; i++) classes[i] = classes[i] == 3;
}

PIREC_CLONES
void pirec_mask_to_float(const uint8_t *mask, size_t count, float *dst) {
    for (size_t i = 0; i < count; i++) dst[i] = (float)mask[i];
}
