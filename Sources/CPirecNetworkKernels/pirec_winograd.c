/* pirec_winograd.c - see pirec_network_kernels.h. The Winograd transforms around the matrix
 * products, compiled per instruction set: eight tiles of a tile row at once in 8-lane
 * vectors (their input columns picked from 16-sample loads by shuffles), single tiles
 * where eight do not fit (WinogradConv3x3.swift decides which, and transforms the weights).
 * In C because the Swift build targets the x86-64 baseline, which split the vectors in
 * halves and spilled them. */
#include "pirec_network_kernels.h"

#include <string.h>

#if defined(__x86_64__) && defined(__ELF__)
#define PIREC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PIREC_CLONES
#endif

typedef float v8f __attribute__((vector_size(32), aligned(4)));
typedef float v16f __attribute__((vector_size(64), aligned(4)));

/* Vector loads and stores, and picks, as macros: a function taking or returning a vector
 * would have the baseline clone's ABI (GNU statement expressions). */
#define load16(p) ({ v16f v_; memcpy(&v_, (p), sizeof v_); v_; })
#define load8(p) ({ v8f v_; memcpy(&v_, (p), sizeof v_); v_; })
#define store8(p, v) do { v8f s_ = (v); memcpy((p), &s_, sizeof s_); } while (0)

/* Column j's samples of eight adjacent tiles. F(2x2), d = 1: every other sample; d = 2:
 * pairs 0, 1, 4, 5, ... F(4x4), d = 1: every fourth sample; d = 2: pairs 0, 1, 8, 9, ...;
 * never reading past the last sample used (the Swift side checks the row has room). */
#define pick2(p, d) ({ v16f a_ = load16(p); (d) == 1 \
    ? __builtin_shufflevector(a_, a_, 0, 2, 4, 6, 8, 10, 12, 14) \
    : __builtin_shufflevector(a_, a_, 0, 1, 4, 5, 8, 9, 12, 13); })
#define pick4(p, d) ((d) == 1 \
    ? ({ v16f a_ = load16(p), b_ = load16((p) + 13); __builtin_shufflevector(a_, b_, 0, 4, 8, 12, 19, 23, 27, 31); }) \
    : ({ v16f a_ = load16(p), b_ = load16((p) + 10); __builtin_shufflevector(a_, b_, 0, 1, 8, 9, 22, 23, 30, 31); }))

/* B^T of F(4x4) (points 0, 1, -1, 2, -2, inf) on six values (macros: the same for vectors
 * and scalars): B^T = [[4,0,-5,0,1,0],[0,-4,-4,1,1,0],[0,4,-4,-1,1,0],[0,-2,-1,2,1,0],
 * [0,2,-1,-2,1,0],[0,4,0,-5,0,1]]. */
#define ROWS4(x, o)                                                                     \
    do {                                                                                \
        __typeof__(x[0]) p_ = x[4] - 4 * x[2], q_ = x[3] - 4 * x[1], r_ = x[4] - x[2],  \
                         s_ = 2 * (x[3] - x[1]);                                        \
        o[0] = 4 * x[0] - 5 * x[2] + x[4];                                              \
        o[1] = p_ + q_;                                                                 \
        o[2] = p_ - q_;                                                                 \
        o[3] = r_ + s_;                                                                 \
        o[4] = r_ - s_;                                                                 \
        o[5] = 4 * x[1] - 5 * x[3] + x[5];                                              \
    } while (0)

/* B^T of F(2x2) on four values: B^T = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]]. */
#define ROWS2(x, o)           \
    do {                      \
        o[0] = x[0] - x[2];   \
        o[1] = x[1] + x[2];   \
        o[2] = x[2] - x[1];   \
        o[3] = x[1] - x[3];   \
    } while (0)

/* A^T of F(4x4) on six values: A^T = [[1,1,1,1,1,0],[0,1,-1,2,-2,0],[0,1,1,4,4,0],[0,1,-1,8,-8,1]]. */
#define OUT4(m, y)                                                                       \
    do {                                                                                 \
        __typeof__(m[0]) a_ = m[1] + m[2], b_ = m[1] - m[2], c_ = m[3] + m[4], e_ = m[3] - m[4]; \
        y[0] = m[0] + a_ + c_;                                                           \
        y[1] = b_ + 2 * e_;                                                              \
        y[2] = a_ + 4 * c_;                                                              \
        y[3] = b_ + 8 * e_ + m[5];                                                       \
    } while (0)

/* A^T of F(2x2) on four values: A^T = [[1,1,1,0],[0,1,-1,-1]]. */
#define OUT2(m, y)                  \
    do {                            \
        y[0] = m[0] + m[1] + m[2];  \
        y[1] = m[1] - m[2] - m[3];  \
    } while (0)

/* One input transform V = B^T d B of n x n samples d apart (rows `width` apart), of eight
 * tiles (T = v8f, LOAD picks the eight) or one (T = float), into o[e * step]. */
#define INPUT(T, n, ROWS, LOAD, STORE)                                          \
    do {                                                                        \
        T rows_[n][n];                                                          \
        for (size_t r = 0; r < n; r++) {                                        \
            T x_[n];                                                            \
            for (size_t c = 0; c < n; c++) x_[c] = LOAD(p0 + r * d * width + c * d); \
            ROWS(x_, rows_[r]);                                                 \
        }                                                                       \
        for (size_t c = 0; c < n; c++) {                                        \
            T x_[n], v_[n];                                                     \
            for (size_t r = 0; r < n; r++) x_[r] = rows_[r][c];                 \
            ROWS(x_, v_);                                                       \
            for (size_t r = 0; r < n; r++) STORE(o + (n * r + c) * step, v_[r]); \
        }                                                                       \
    } while (0)

#define SCALAR_LOAD(p) (*(p))
#define SCALAR_STORE(p, v) (*(p) = (v))

PIREC_CLONES
void pirec_winograd_input(size_t tile, const float *plane, size_t width, size_t d, const size_t *offsets,
                          const uint8_t *eight, size_t count, float *out, size_t step, size_t panel) {
    for (size_t t = 0; t < count;) {
        const float *p0 = plane + offsets[t];
        float *o = out + t / 32 * panel + t % 32;
        if (eight[t]) {
            if (tile == 2) {
#define LOAD2(p) pick2(p, d)
                INPUT(v8f, 4, ROWS2, LOAD2, store8);
            } else {
#define LOAD4(p) pick4(p, d)
                INPUT(v8f, 6, ROWS4, LOAD4, store8);
            }
            t += 8;
        } else {
            if (tile == 2)
                INPUT(float, 4, ROWS2, SCALAR_LOAD, SCALAR_STORE);
            else
                INPUT(float, 6, ROWS4, SCALAR_LOAD, SCALAR_STORE);
            t += 1;
        }
    }
}

/* One output transform Y = A^T m A + bias of eight tiles (lanes) or one, from m[e * step],
 * each lane's block of size x size outputs written d apart from plane + offsets[t + lane]. */
#define OUTPUT(T, n, size, OUT, LANES, LOADM)                                        \
    do {                                                                             \
        T cols_[size][n];                                                            \
        for (size_t c = 0; c < n; c++) {                                             \
            T m_[n], y_[size];                                                       \
            for (size_t r = 0; r < n; r++) m_[r] = LOADM(g + (n * r + c) * step);    \
            OUT(m_, y_);                                                             \
            for (size_t i = 0; i < size; i++) cols_[i][c] = y_[i];                   \
        }                                                                            \
        for (size_t i = 0; i < size; i++) {                                          \
            T y_[size];                                                              \
            OUT(cols_[i], y_);                                                       \
            for (size_t lane = 0; lane < LANES; lane++) {                            \
                float *row_ = plane + offsets[t + lane] + i * d * wo;                \
                for (size_t j = 0; j < size; j++) row_[j * d] = LANE(y_[j], lane) + bias; \
            }                                                                        \
        }                                                                            \
    } while (0)

PIREC_CLONES
void pirec_winograd_output(size_t tile, const float *m, size_t step, size_t count, float bias, float *plane,
                           size_t wo, size_t d, const size_t *offsets) {
    size_t t = 0;
#define LANE(v, lane) ((v)[lane])
    for (; t + 8 <= count; t += 8) {
        const float *g = m + t;
        if (tile == 2)
            OUTPUT(v8f, 4, 2, OUT2, 8, load8);
        else
            OUTPUT(v8f, 6, 4, OUT4, 8, load8);
    }
#undef LANE
#define LANE(v, lane) ((void)(lane), (v))
    for (; t < count; t++) {
        const float *g = m + t;
        if (tile == 2)
            OUTPUT(float, 4, 2, OUT2, 1, SCALAR_LOAD);
        else
            OUTPUT(float, 6, 4, OUT4, 1, SCALAR_LOAD);
    }
#undef LANE
}
