/* pirec_imaging_kernels.c - see pirec_imaging_kernels.h. Eight outputs at a time are summed in a register
 * across all taps (vector types, lowered per target: one AVX-512 register, two AVX2 or
 * four SSE2 ones), then stored once. */
#include "pirec_imaging_kernels.h"

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
 * operations) and their magnitude; w >= 2. */
PIREC_INLINE void sobel_row(const double *up, const double *mid, const double *down, size_t w, double *dy,
                             double *dx, double *mag) {
    for (size_t x = 1; x + 1 < w; x++) {
        const double gy = (down[x] - up[x]) * 2 + ((down[x - 1] - up[x - 1]) + (down[x + 1] - up[x + 1]));
        const double gx = (mid[x + 1] - mid[x - 1]) * 2 + ((up[x + 1] - up[x - 1]) + (down[x + 1] - down[x - 1]));
        dy[x] = gy;
        dx[x] = gx;
        mag[x] = sqrt(gy * gy + gx * gx);
    }
    /* Mirrored: column -1 is column 0 and column w is column w - 1. */
    const size_t edges[2] = {0, w - 1};
    for (size_t i = 0; i < 2; i++) {
        const size_t x = edges[i], l = x ? x - 1 : 0, r = x + 1 < w ? x + 1 : x;
        const double gy = (down[x] - up[x]) * 2 + ((down[l] - up[l]) + (down[r] - up[r]));
        const double gx = (mid[r] - mid[l]) * 2 + ((up[r] - up[l]) + (down[r] - down[l]));
        dy[x] = gy;
        dx[x] = gx;
        mag[x] = sqrt(gy * gy + gx * gx);
    }
}

/* Suppression classes of columns x0 ... x1 - 1 of one row (see suppress_row). */
PIREC_INLINE void suppress_span(const double *up, const double *m, const double *down, const double *gyRow,
                                 const double *gxRow, size_t x0, size_t x1, double low, double high, uint8_t *out) {
    /* Branch-free, so it vectorises: the four cases of skimage pick their neighbours by
     * selects. The weight is min/max of |gy| and |gx|, which is what each case divides. */
    for (size_t x = x0; x < x1; x++) {
        const double v = m[x], gyv = gyRow[x], gxv = gxRow[x];
        const double ay = fabs(gyv), ax = fabs(gxv);
        /* As skimage: "down" is gy <= 0 and "left" gx <= 0, so exactly one case applies. */
        const int same = (gyv <= 0) == (gxv <= 0);
        const int steep = same ? ay > ax : ay >= ax;
        const double weight = (ay < ax ? ay : ax) / (ay < ax ? ax : ay);
        const double n1b = same ? down[x + 1] : up[x + 1], n2b = same ? up[x - 1] : down[x - 1];
        const double n1a = steep ? (same ? down[x] : up[x]) : m[x + 1];
        const double n2a = steep ? (same ? up[x] : down[x]) : m[x - 1];
        const int keep = v >= low && n1b * weight + n1a * (1 - weight) <= v && n2b * weight + n2a * (1 - weight) <= v;
        out[x] = keep ? (v >= high ? 2 : 1) : 0;
    }
}

#define SPAN 16

/* Non-maximum suppression of row y (skimage's bilinear interpolation between the two
 * neighbours along the gradient) from magnitude rows y - 1, y, y + 1 and row y's gradients.
 * Spans with no magnitude at or above `low` are skipped (`out` is already zero). */
PIREC_INLINE void suppress_row(const double *up, const double *m, const double *down, const double *gyRow,
                                const double *gxRow, size_t w, double low, double high, uint8_t *out) {
    size_t x0 = 1;
    for (; x0 + SPAN < w; x0 += SPAN) {
        int any = 0;
        for (size_t i = 0; i < SPAN; i++) any |= m[x0 + i] >= low;
        if (any) suppress_span(up, m, down, gyRow, gxRow, x0, x0 + SPAN, low, high, out);
    }
    suppress_span(up, m, down, gyRow, gxRow, x0, w - 1, low, high, out);
}

/* Rows of the column pass made together: each gray row read from memory serves all of
 * them, so the ring of 2 * radius + BLOCK gray rows is read once per block, not per row. */
#define BLOCK 4

/* The state of one streaming pass: rings of gray and smoothed rows, produced in order. */
typedef struct canny_pass {
    const float *image;
    size_t channels, stride, w, h, radius;
    const double *k, *weights;
    double *gray;      /* ring of 2 * radius + BLOCK gray rows */
    double *smooth;    /* ring of 2 * BLOCK smoothed rows */
    double *padded;    /* BLOCK column-filtered rows, each with `radius` zeros each side */
    double *ones;      /* one such row for the bleed-over divisor */
    double *divisor, *zero;
    double weight;     /* the column weight `divisor` was made for */
    size_t grayNext, smoothNext;
    const double **rows; /* gray rows y0 - radius ... y0 + BLOCK - 1 + radius of a block */
} canny_pass;

PIREC_INLINE const double *gray_row(canny_pass *p, size_t y) {
    const size_t slots = 2 * p->radius + BLOCK;
    while (p->grayNext <= y) {
        luminance_row(p->image + p->grayNext * p->stride, p->channels, p->gray + (p->grayNext % slots) * p->w, p->w);
        p->grayNext++;
    }
    return p->gray + (y % slots) * p->w;
}

/* Where smoothed row y lives in the ring of 2 * BLOCK rows. */
PIREC_INLINE double *smooth_slot(const canny_pass *p, size_t y) { return p->smooth + (y % (2 * BLOCK)) * p->w; }

/* out[x] = centre[x] * k[0] + sum over t = radius..1 of (above(t)[x] + below(t)[x]) * k[t] for
 * `count` rows: row j's above(t) is rows[j - t] and below(t) rows[j + t]. */
PIREC_INLINE void column_rows(const double *const *rows, size_t count, size_t w, const double *k, size_t radius,
                              double *const *out) {
    size_t x = 0;
    if (count == BLOCK) {
        /* Sixteen columns of four rows: eight independent chains of dependent adds. */
        for (; x + 16 <= w; x += 16) {
            v8d s[BLOCK][2];
            for (size_t j = 0; j < BLOCK; j++) {
                s[j][0] = *(const v8d *)(rows[j] + x) * k[0];
                s[j][1] = *(const v8d *)(rows[j] + x + 8) * k[0];
            }
            for (size_t t = radius; t >= 1; t--)
                for (size_t j = 0; j < BLOCK; j++) {
                    const double *a = rows[(ptrdiff_t)j - (ptrdiff_t)t] + x, *b = rows[j + t] + x;
                    s[j][0] = s[j][0] + (*(const v8d *)a + *(const v8d *)b) * k[t];
                    s[j][1] = s[j][1] + (*(const v8d *)(a + 8) + *(const v8d *)(b + 8)) * k[t];
                }
            for (size_t j = 0; j < BLOCK; j++) {
                *(v8d *)(out[j] + x) = s[j][0];
                *(v8d *)(out[j] + x + 8) = s[j][1];
            }
        }
    }
    for (size_t j = 0; j < count; j++) {
        const double *const *r = rows + j;
        for (size_t i = x; i < w; i++) {
            double sum = r[0][i] * k[0];
            for (size_t t = radius; t >= 1; t--) sum = sum + (r[-(ptrdiff_t)t][i] + r[t][i]) * k[t];
            out[j][i] = sum;
        }
    }
}

/* Smoothed rows y0 ... y0 + count - 1 (as scipy's gaussian_filter, then skimage's bleed-over
 * division) into the ring, from gray rows y0 - radius ... y0 + count - 1 + radius. */
PIREC_INLINE void smooth_rows(canny_pass *p, size_t y0, size_t count) {
    const size_t w = p->w, h = p->h, radius = p->radius;
    const double *k = p->k;
    if (!k) {
        for (size_t j = 0; j < count; j++)
            memcpy(smooth_slot(p, y0 + j), gray_row(p, y0 + j), sizeof(double) * w);
        return;
    }
    gray_row(p, y0 + count - 1 + radius < h ? y0 + count - 1 + radius : h - 1);
    const size_t slots = 2 * radius + BLOCK;
    const double **rows = p->rows + radius;
    for (ptrdiff_t i = -(ptrdiff_t)radius; i < (ptrdiff_t)(count + radius); i++) {
        const ptrdiff_t y = (ptrdiff_t)y0 + i;
        rows[i] = y >= 0 && y < (ptrdiff_t)h ? p->gray + ((size_t)y % slots) * w : p->zero;
    }
    double *out[BLOCK];
    for (size_t j = 0; j < count; j++) out[j] = p->padded + j * (w + 2 * radius) + radius;
    column_rows(rows, count, w, k, radius, out);
    for (size_t j = 0; j < count; j++) {
        const size_t y = y0 + j;
        /* The bleed-over divisor: the row filter on the column weight inside the image
         * (weights[y]) spread over the row, plus epsilon; it changes only near the top and bottom. */
        if (p->weights[y] != p->weight) {
            p->weight = p->weights[y];
            for (size_t i = 0; i < w; i++) p->ones[radius + i] = p->weight;
            symmetric_row(p->ones + radius, p->divisor, w, k, radius, NULL);
            for (size_t i = 0; i < w; i++) p->divisor[i] = p->divisor[i] + __DBL_EPSILON__;
        }
        symmetric_row(out[j], smooth_slot(p, y), w, k, radius, p->divisor);
    }
}

/* Smoothed row y; made a block at a time, and kept until 2 * BLOCK - 1 rows later. */
PIREC_INLINE const double *smoothed_row(canny_pass *p, size_t y) {
    while (p->smoothNext <= y) {
        const size_t count = p->h - p->smoothNext < BLOCK ? p->h - p->smoothNext : BLOCK;
        smooth_rows(p, p->smoothNext, count);
        p->smoothNext += count;
    }
    return smooth_slot(p, y);
}

PIREC_CLONES
int pirec_canny_classes(const float *image, size_t channels, size_t stride, size_t w, size_t h, const double *k,
                        size_t radius, const double *weights, double low, double high, uint8_t *classes) {
    memset(classes, 0, w * h);
    if (w < 3 || h < 3) return 0;
    if (!k) radius = 0;
    const size_t padded = w + 2 * radius;
    /* gray ring, smoothed ring, padded rows, ones row, divisor, zero row; then three
     * magnitude rows and two gradient rows of each direction. */
    const size_t doubles = (2 * radius + BLOCK) * w + 2 * BLOCK * w + (BLOCK + 1) * padded + 2 * w + 7 * w;
    double *buffer = calloc(doubles, sizeof(double));
    const double **pointers = malloc(sizeof(double *) * (2 * radius + BLOCK));
    if (!buffer || !pointers) {
        free(buffer);
        free(pointers);
        return -1;
    }
    canny_pass p = {image, channels, stride, w, h, radius, k, weights};
    p.gray = buffer;
    p.smooth = p.gray + (2 * radius + BLOCK) * w;
    p.padded = p.smooth + 2 * BLOCK * w;
    p.ones = p.padded + BLOCK * padded;
    p.divisor = p.ones + padded;
    p.zero = p.divisor + w;
    p.weight = __builtin_nan("");
    p.rows = pointers;
    double *rows = p.zero + w;
    double *mag[3] = {rows, rows + w, rows + 2 * w};
    double *gy[2] = {rows + 3 * w, rows + 4 * w}, *gx[2] = {rows + 5 * w, rows + 6 * w};
    sobel_row(smoothed_row(&p, 0), smoothed_row(&p, 0), smoothed_row(&p, 1), w, gy[0], gx[0], mag[0]);
    sobel_row(smoothed_row(&p, 0), smoothed_row(&p, 1), smoothed_row(&p, 2), w, gy[1], gx[1], mag[1]);
    for (size_t y = 1; y + 1 < h; y++) {
        /* mag[0] is row y - 1, mag[1] row y; row y + 1 goes into mag[2]. */
        const size_t below = y + 2 < h ? y + 2 : h - 1;
        double *gyRow = gy[1], *gxRow = gx[1];
        gy[1] = gy[0];
        gx[1] = gx[0];
        gy[0] = gyRow;
        gx[0] = gxRow;
        const double *down2 = smoothed_row(&p, below);
        sobel_row(smoothed_row(&p, y), smoothed_row(&p, y + 1), down2, w, gy[1], gx[1], mag[2]);
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
