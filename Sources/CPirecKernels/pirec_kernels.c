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

/* Helpers of the cloned kernels: inlined into each clone, so they are compiled for its
 * instruction set too (a separate static function would be baseline code). */
#define PIREC_INLINE static inline __attribute__((always_inline))

/* Eight doubles; aligned(8) allows unaligned addresses. */
typedef double v8d __attribute__((vector_size(64), aligned(8)));

PIREC_INLINE double exact_level(float v) {
    /* Branch-free so it vectorises: out of [0, 1] (or NaN) the comparison fails. */
    const float clamped = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    const float level = floorf(clamped * 255.0f + 0.5f);
    return level * (1.0f / 255.0f) == v ? (double)level * (1.0 / 255.0) : (double)v;
}

PIREC_INLINE void luminance_row(const float *src, size_t channels, double *dst, size_t count) {
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

PIREC_CLONES
void pirec_luminance(const float *src, size_t channels, double *dst, size_t count) {
    luminance_row(src, channels, dst, count);
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

/* dst[x] = src[x] * k[0] + sum over t = radius..1 of (src[x - t] + src[x + t]) * k[t] (scipy's
 * correlate1d with a symmetric kernel, in that order), then divided by divisor[x] unless
 * `divisor` is NULL (one rounding, as `sum / d`). src is read from -radius to
 * count + radius - 1. */
PIREC_INLINE void symmetric_row(const double *src, double *dst, size_t count, const double *k, size_t radius,
                                const double *divisor) {
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
        if (divisor) {
            s0 = s0 / *(const v8d *)(divisor + x);
            s1 = s1 / *(const v8d *)(divisor + x + 8);
            s2 = s2 / *(const v8d *)(divisor + x + 16);
            s3 = s3 / *(const v8d *)(divisor + x + 24);
        }
        *(v8d *)(dst + x) = s0;
        *(v8d *)(dst + x + 8) = s1;
        *(v8d *)(dst + x + 16) = s2;
        *(v8d *)(dst + x + 24) = s3;
    }
    for (; x + 8 <= count; x += 8) {
        v8d sum = *(const v8d *)(src + x) * k[0];
        for (size_t t = radius; t >= 1; t--)
            sum = sum + (*(const v8d *)(src + x - t) + *(const v8d *)(src + x + t)) * k[t];
        *(v8d *)(dst + x) = divisor ? sum / *(const v8d *)(divisor + x) : sum;
    }
    for (; x < count; x++) {
        double sum = src[x] * k[0];
        for (size_t t = radius; t >= 1; t--) sum = sum + (src[x - t] + src[x + t]) * k[t];
        dst[x] = divisor ? sum / divisor[x] : sum;
    }
}

/* One row of Sobel gradients (scipy.ndimage.sobel, mirrored borders, scipy's order of
 * operations) and their magnitude; w >= 2. `work` holds w + 2 doubles. */
PIREC_INLINE void sobel_row(const double *up, const double *mid, const double *down, size_t w, double *dy,
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

/* Non-maximum suppression of row y (skimage's bilinear interpolation between the two
 * neighbours along the gradient) from magnitude rows y - 1, y, y + 1 and row y's gradients. */
PIREC_INLINE void suppress_row(const double *up, const double *m, const double *down, const double *gyRow,
                                const double *gxRow, size_t w, double low, double high, uint8_t *out) {
    for (size_t x = 1; x + 1 < w; x++) {
        const double v = m[x];
        if (!(v >= low)) continue;
        const double gyv = gyRow[x], gxv = gxRow[x];
        /* As skimage: "down" is gy <= 0 and "left" gx <= 0, so exactly one case applies. */
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
}

/* The state of one streaming pass: rings of gray and smoothed rows, produced in order. */
typedef struct canny_pass {
    const float *image;
    size_t channels, stride, w, h, radius;
    const double *k, *weights;
    double *gray;      /* ring of 2 * radius + 1 gray rows */
    double *smooth;    /* ring of 4 smoothed rows */
    double *padded;    /* one column-filtered row with `radius` zeros each side */
    double *ones;      /* the same for the bleed-over divisor */
    double *divisor, *zero;
    double weight;     /* the column weight `divisor` was made for */
    size_t grayNext, smoothNext;
    const double **above, **below;
} canny_pass;

PIREC_INLINE const double *gray_row(canny_pass *p, size_t y) {
    const size_t slots = 2 * p->radius + 1;
    while (p->grayNext <= y) {
        luminance_row(p->image + p->grayNext * p->stride, p->channels, p->gray + (p->grayNext % slots) * p->w, p->w);
        p->grayNext++;
    }
    return p->gray + (y % slots) * p->w;
}

/* Smoothed row y (as scipy's gaussian_filter, then skimage's bleed-over division), from
 * gray rows y - radius ... y + radius. */
PIREC_INLINE void smooth_row(canny_pass *p, size_t y, double *dst) {
    const size_t w = p->w, h = p->h, radius = p->radius;
    const double *k = p->k;
    if (!k) {
        memcpy(dst, gray_row(p, y), sizeof(double) * w);
        return;
    }
    gray_row(p, y + radius < h ? y + radius : h - 1);
    const size_t slots = 2 * radius + 1;
    for (size_t t = 1; t <= radius; t++) {
        p->above[t] = y >= t ? p->gray + ((y - t) % slots) * w : p->zero;
        p->below[t] = y + t < h ? p->gray + ((y + t) % slots) * w : p->zero;
    }
    const double *centre = p->gray + (y % slots) * w, *const *above = p->above, *const *below = p->below;
    double *out = p->padded + radius;
    size_t x = 0;
    /* Four vectors at a time: each sum is a chain of dependent adds, so independent chains
     * keep the adder busy. */
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
    /* The bleed-over divisor: the row filter on the column weight inside the image
     * (weights[y]) spread over the row, plus epsilon; it changes only near the top and bottom. */
    if (p->weights[y] != p->weight) {
        p->weight = p->weights[y];
        for (size_t i = 0; i < w; i++) p->ones[radius + i] = p->weight;
        symmetric_row(p->ones + radius, p->divisor, w, k, radius, NULL);
        for (size_t i = 0; i < w; i++) p->divisor[i] = p->divisor[i] + __DBL_EPSILON__;
    }
    symmetric_row(p->padded + radius, dst, w, k, radius, p->divisor);
}

PIREC_INLINE const double *smoothed_row(canny_pass *p, size_t y) {
    while (p->smoothNext <= y) {
        smooth_row(p, p->smoothNext, p->smooth + (p->smoothNext % 4) * p->w);
        p->smoothNext++;
    }
    return p->smooth + (y % 4) * p->w;
}

PIREC_CLONES
int pirec_canny_classes(const float *image, size_t channels, size_t stride, size_t w, size_t h, const double *k,
                        size_t radius, const double *weights, double low, double high, uint8_t *classes) {
    memset(classes, 0, w * h);
    if (w < 3 || h < 3) return 0;
    if (!k) radius = 0;
    const size_t padded = w + 2 * radius;
    /* gray ring, smoothed ring, padded and ones rows, divisor, zero row; then three
     * magnitude rows, two gradient rows of each direction and the Sobel work row. */
    const size_t doubles = (2 * radius + 1) * w + 4 * w + 2 * padded + 2 * w + 8 * w + 2;
    double *buffer = calloc(doubles, sizeof(double));
    const double **pointers = malloc(sizeof(double *) * 2 * (radius + 1));
    if (!buffer || !pointers) {
        free(buffer);
        free(pointers);
        return -1;
    }
    canny_pass p = {image, channels, stride, w, h, radius, k, weights};
    p.gray = buffer;
    p.smooth = p.gray + (2 * radius + 1) * w;
    p.padded = p.smooth + 4 * w;
    p.ones = p.padded + padded;
    p.divisor = p.ones + padded;
    p.zero = p.divisor + w;
    p.weight = __builtin_nan("");
    p.above = pointers;
    p.below = pointers + radius + 1;
    double *rows = p.zero + w;
    double *mag[3] = {rows, rows + w, rows + 2 * w};
    double *gy[2] = {rows + 3 * w, rows + 4 * w}, *gx[2] = {rows + 5 * w, rows + 6 * w};
    double *work = rows + 7 * w;
    sobel_row(smoothed_row(&p, 0), smoothed_row(&p, 0), smoothed_row(&p, 1), w, gy[0], gx[0], mag[0], work);
    sobel_row(smoothed_row(&p, 0), smoothed_row(&p, 1), smoothed_row(&p, 2), w, gy[1], gx[1], mag[1], work);
    for (size_t y = 1; y + 1 < h; y++) {
        /* mag[0] is row y - 1, mag[1] row y; row y + 1 goes into mag[2]. */
        const size_t below = y + 2 < h ? y + 2 : h - 1;
        double *gyRow = gy[1], *gxRow = gx[1];
        gy[1] = gy[0];
        gx[1] = gx[0];
        gy[0] = gyRow;
        gx[0] = gxRow;
        const double *down2 = smoothed_row(&p, below);
        sobel_row(smoothed_row(&p, y), smoothed_row(&p, y + 1), down2, w, gy[1], gx[1], mag[2], work);
        suppress_row(mag[0], mag[1], mag[2], gyRow, gxRow, w, low, high, classes + y * w);
        double *oldest = mag[0];
        mag[0] = mag[1];
        mag[1] = mag[2];
        mag[2] = oldest;
    }
    free(buffer);
    free(pointers);
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
