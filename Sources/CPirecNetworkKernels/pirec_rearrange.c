/* pirec_rearrange.c - see pirec_network_kernels.h. The loops that only move samples around
 * the matrix products: padding, im2col and col2im. In C, compiled per instruction set, because
 * the Swift ones (baseline x86-64, an index check a sample) were 8 % of a bf16 network run in
 * `perf` at 256x256. */
#include "pirec_network_kernels.h"
#include "bf16_rounding.h"

#include <string.h>

#if defined(__x86_64__) && defined(__ELF__)
#define PIREC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PIREC_CLONES
#endif

/* The source index of padded index i on a side of n samples padded by reflection (d c b | a
 * b c d | c b a), as ReflectionPad.swift's reflectIndex. */
static inline ptrdiff_t reflect_index(ptrdiff_t i, ptrdiff_t n) {
    if (n == 1) return 0;
    const ptrdiff_t period = 2 * (n - 1);
    i = ((i % period) + period) % period;
    return i < n ? i : period - i;
}

PIREC_CLONES
void pirec_pad(const float *in, size_t h, size_t w, size_t p, int reflect, float *out) {
    const size_t pw = w + 2 * p;
    for (size_t y = 0; y < h + 2 * p; y++) {
        float *dst = out + y * pw;
        const ptrdiff_t sy = (ptrdiff_t)y - (ptrdiff_t)p;
        if (!reflect && (sy < 0 || sy >= (ptrdiff_t)h)) {
            memset(dst, 0, pw * sizeof *dst);
            continue;
        }
        const float *row = in + (reflect ? reflect_index(sy, (ptrdiff_t)h) : sy) * (ptrdiff_t)w;
        for (size_t i = 0; i < p; i++) {
            dst[i] = reflect ? row[reflect_index((ptrdiff_t)i - (ptrdiff_t)p, (ptrdiff_t)w)] : 0;
            dst[p + w + i] = reflect ? row[reflect_index((ptrdiff_t)(w + i), (ptrdiff_t)w)] : 0;
        }
        memcpy(dst + p, row, w * sizeof *dst);
    }
}

typedef float v16f __attribute__((vector_size(64), aligned(4)));

/* The shape of an im2col: a convolution's input plane size and geometry. */
struct geometry {
    ptrdiff_t h, w, kernel, stride, padding, dilation;
    int reflect;
};

/* The part of im2col's matrix row (c, i, j) for output row oy: the wo samples
 * x[c][oy s - p + i d][ox s - p + j d], reflected or 0 outside the plane. Inlined into each
 * clone. */
static inline __attribute__((always_inline)) void gather(const float *x, const struct geometry *g, size_t c,
                                                         ptrdiff_t i, ptrdiff_t j, ptrdiff_t oy, size_t wo,
                                                         float *out) {
    const ptrdiff_t s = g->stride, swo = (ptrdiff_t)wo, dx = j * g->dilation - g->padding;
    ptrdiff_t iy = oy * s - g->padding + i * g->dilation;
    if (iy < 0 || iy >= g->h) {
        if (!g->reflect) {
            memset(out, 0, wo * sizeof *out);
            return;
        }
        iy = reflect_index(iy, g->h);
    }
    /* Output columns whose input column is inside: ox in [first, last). */
    ptrdiff_t first = dx >= 0 ? 0 : (-dx + s - 1) / s;
    if (first > swo) first = swo;
    ptrdiff_t last = (g->w - dx + s - 1) / s;
    if (last > swo) last = swo;
    if (last < first) last = first;
    const float *src = x + (ptrdiff_t)c * g->h * g->w + iy * g->w;
    for (ptrdiff_t ox = 0; ox < first; ox++) out[ox] = g->reflect ? src[reflect_index(ox * s + dx, g->w)] : 0;
    if (s == 1) {
        memcpy(out + first, src + first + dx, (size_t)(last - first) * sizeof *out);
    } else {
        ptrdiff_t ox = first;
        if (s == 2) {
            /* Sixteen even samples out of 32 loaded (the last load ends one sample past the
             * sixteenth, so it stops one short of `last`). */
            for (; ox + 17 <= last; ox += 16) {
                v16f a, b;
                memcpy(&a, src + 2 * ox + dx, sizeof a);
                memcpy(&b, src + 2 * ox + dx + 16, sizeof b);
                const v16f even = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
                memcpy(out + ox, &even, sizeof even);
            }
        }
        for (; ox < last; ox++) out[ox] = src[ox * s + dx];
    }
    for (ptrdiff_t ox = last; ox < swo; ox++) out[ox] = g->reflect ? src[reflect_index(ox * s + dx, g->w)] : 0;
}

PIREC_CLONES
void pirec_im2col(const float *x, size_t c0, size_t c1, size_t h, size_t w, size_t kernel, size_t stride,
                  size_t padding, size_t dilation, int reflect, size_t oy0, size_t rows, size_t wo,
                  float *columns) {
    const struct geometry g = {(ptrdiff_t)h, (ptrdiff_t)w, (ptrdiff_t)kernel, (ptrdiff_t)stride, (ptrdiff_t)padding,
                               (ptrdiff_t)dilation, reflect};
    const size_t n = rows * wo;
    for (size_t c = c0; c < c1; c++)
        for (size_t i = 0; i < kernel; i++)
            for (size_t j = 0; j < kernel; j++) {
                float *dst = columns + ((c * kernel + i) * kernel + j) * n;
                for (size_t r = 0; r < rows; r++)
                    gather(x, &g, c, (ptrdiff_t)i, (ptrdiff_t)j, (ptrdiff_t)(oy0 + r), wo, dst + r * wo);
            }
}

PIREC_CLONES
void pirec_im2col_bf16(const float *x, size_t h, size_t w, size_t kernel, size_t stride, size_t padding,
                       size_t dilation, int reflect, size_t oy0, size_t rows, size_t wo, size_t k, size_t p0,
                       size_t p1, float *scratch, uint32_t *panels) {
    const struct geometry g = {(ptrdiff_t)h, (ptrdiff_t)w, (ptrdiff_t)kernel, (ptrdiff_t)stride, (ptrdiff_t)padding,
                               (ptrdiff_t)dilation, reflect};
    const size_t kk = kernel * kernel, pairs = k / 2, n = rows * wo;
    float *even = scratch, *odd = scratch + wo + 16;
    for (size_t p = p0; p < p1; p++) {
        const size_t a = 2 * p, b = a + 1;
        for (size_t r = 0; r < rows; r++) {
            gather(x, &g, a / kk, (ptrdiff_t)(a % kk / kernel), (ptrdiff_t)(a % kernel), (ptrdiff_t)(oy0 + r), wo, even);
            gather(x, &g, b / kk, (ptrdiff_t)(b % kk / kernel), (ptrdiff_t)(b % kernel), (ptrdiff_t)(oy0 + r), wo, odd);
            /* Column col = r wo + ox goes to word (col / 32 pairs + p) 32 + col % 32. */
            size_t ox = 0;
            while (ox < wo) {
                const size_t col = r * wo + ox, lane = col % 32, run = 32 - lane < wo - ox ? 32 - lane : wo - ox;
                uint32_t *out = panels + (col / 32 * pairs + p) * 32 + lane;
                size_t e = 0;
                for (; e + 16 <= run; e += 16) {
                    v16u u0, u1;
                    memcpy(&u0, even + ox + e, sizeof u0);
                    memcpy(&u1, odd + ox + e, sizeof u1);
                    const v16u pair = ROUND16(u0) | (ROUND16(u1) << 16);
                    memcpy(out + e, &pair, sizeof pair);
                }
                for (; e < run; e++) {
                    uint32_t u0, u1;
                    memcpy(&u0, even + ox + e, 4);
                    memcpy(&u1, odd + ox + e, 4);
                    out[e] = round1(u0) | (round1(u1) << 16);
                }
                ox += run;
            }
        }
        /* The last panel's columns past n: zero. */
        if (n % 32 != 0)
            memset(panels + ((n / 32) * pairs + p) * 32 + n % 32, 0, (32 - n % 32) * sizeof *panels);
    }
}

PIREC_CLONES
void pirec_col2im(const float *columns, size_t rows, size_t r0, size_t w, size_t kernel, size_t stride,
                  size_t padding, float *out, size_t ho, size_t wo, size_t co0, size_t co1) {
    const size_t n = rows * w;
    const ptrdiff_t s = (ptrdiff_t)stride, p = (ptrdiff_t)padding;
    for (size_t co = co0; co < co1; co++) {
        float *plane = out + co * ho * wo;
        for (size_t ki = 0; ki < kernel; ki++) {
            for (size_t kj = 0; kj < kernel; kj++) {
                const float *col = columns + ((co * kernel + ki) * kernel + kj) * n;
                /* Input columns whose output column ix s - p + kj is inside: [first, last). */
                const ptrdiff_t shift = (ptrdiff_t)kj - p;
                ptrdiff_t first = shift >= 0 ? 0 : (-shift + s - 1) / s;
                ptrdiff_t last = ((ptrdiff_t)wo - shift + s - 1) / s;
                if (last > (ptrdiff_t)w) last = (ptrdiff_t)w;
                for (size_t r = 0; r < rows; r++) {
                    const ptrdiff_t oy = (ptrdiff_t)((r0 + r) * stride + ki) - p;
                    if (oy < 0 || oy >= (ptrdiff_t)ho) continue;
                    const float *src = col + r * w;
                    float *dst = plane + oy * (ptrdiff_t)wo;
                    for (ptrdiff_t ix = first; ix < last; ix++) dst[ix * s + shift] += src[ix];
                }
            }
        }
    }
}
