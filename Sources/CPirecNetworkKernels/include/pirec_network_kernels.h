/*
 * pirec_network_kernels.h - the inference engine's loops that are not matrix products, in C
 * so that each is compiled for AVX-512, AVX2 and the x86-64 baseline and picked at load time
 * (target_clones): the Swift build targets the baseline only. Built with -ffp-contract=off.
 */
#ifndef PIREC_NETWORK_KERNELS_H
#define PIREC_NETWORK_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* A stride-1 convolution with 3 output channels, direct (no im2col): for output rows
 * [y0, y1) of `out` [3][ho][wo], out = bias + sum over ci, ki, kj of
 * w[co][ci][ki][kj] * in[ci][y + ki][x + kj], where `in` [cin][ph][pw] is already padded
 * (ph = ho + k - 1, pw = wo + k - 1). For the network's last layer, whose three output
 * channels make an im2col matrix product mostly memory traffic. */
void pirec_conv_direct3(const float *in, size_t cin, size_t ph, size_t pw, const float *w, const float *bias,
                        size_t k, float *out, size_t ho, size_t wo, size_t y0, size_t y1);

/* Instance norm of one plane of n values in place: subtract the mean, divide by
 * sqrt(biased variance + epsilon), then ReLU when relu is 1 (PyTorch's InstanceNorm2d
 * without affine parameters); mean and variance from float64 sums. */
void pirec_instance_norm(float *p, size_t n, double epsilon, int relu);

/* The loops that only move samples (pirec_rearrange.c).
 * pad: one plane [h][w] into out [h + 2p][w + 2p], padded by reflection (PyTorch's
 * ReflectionPad2d; p < h and p < w) when reflect is 1, else by zeros.
 * im2col: for the channels [c0, c1) of x [C][h][w] and the output rows oy0 ... oy0 + rows - 1,
 * columns[((c kernel + i) kernel + j) n + r wo + ox] = x[c][(oy0 + r) stride - padding + i
 * dilation][ox stride - padding + j dilation], n = rows wo; outside the plane the reflected
 * sample (reflect 1) or 0.
 * col2im: the transposed convolution's scatter-add, for the output channels [co0, co1):
 * out[co][(r0 + r) stride - padding + ki][ix stride - padding + kj] +=
 * columns[((co kernel + ki) kernel + kj) n + r w + ix] where that lies in out [C][ho][wo],
 * n = rows w.
 * im2col_bf16: im2col's matrix (all channels; k = C kernel^2, even) packed straight into
 * pirec_bf16_pack's panels, for its pairs of rows [p0, p1) (rows 2p and 2p + 1), rounded to
 * bfloat16; scratch: 2 wo + 16 floats of the caller's. */
void pirec_pad(const float *in, size_t h, size_t w, size_t p, int reflect, float *out);
void pirec_im2col(const float *x, size_t c0, size_t c1, size_t h, size_t w, size_t kernel, size_t stride,
                  size_t padding, size_t dilation, int reflect, size_t oy0, size_t rows, size_t wo,
                  float *columns);
void pirec_im2col_bf16(const float *x, size_t h, size_t w, size_t kernel, size_t stride, size_t padding,
                       size_t dilation, int reflect, size_t oy0, size_t rows, size_t wo, size_t k, size_t p0,
                       size_t p1, float *scratch, uint32_t *panels);
void pirec_col2im(const float *columns, size_t rows, size_t r0, size_t w, size_t kernel, size_t stride,
                  size_t padding, float *out, size_t ho, size_t wo, size_t co0, size_t co1);

/* Winograd transforms of one channel (pirec_winograd.c; WinogradConv3x3.swift has the
 * matrices), tile 2 (F(2x2, 3x3)) or 4 (F(4x4, 3x3)), dilation d:
 * input: for t < count, out[e * step + t / 32 * panel + t % 32] = (B^T D B)[e] of the
 * (tile + 2)^2 samples d apart from plane + offsets[t] (rows `width` apart); panel = 32: one
 * row of count values a point, else rows of 32-tile panels panel apart (pirec_gemm's B);
 * where eight[t] is 1, tiles t...t + 7 are adjacent in one tile row, their samples lie in
 * the row and t % 32 <= 24 (they are done together).
 * output: for t < count, the tile x tile block of outputs d apart from plane + offsets[t]
 * (rows wo apart) = (A^T M A) + bias, M[e] = m[e * step + t]. */
void pirec_winograd_input(size_t tile, const float *plane, size_t width, size_t d, const size_t *offsets,
                          const uint8_t *eight, size_t count, float *out, size_t step, size_t panel);
void pirec_winograd_output(size_t tile, const float *m, size_t step, size_t count, float bias, float *plane,
                           size_t wo, size_t d, const size_t *offsets);

/* fp32 matrix products on AVX-512 (pirec_gemm.c) for the Winograd domain, A packed once at
 * load, B as the input transform writes it.
 * available: 1 when this CPU has AVX-512 F (pirec_gemm needs it; elsewhere OpenBLAS runs them).
 * packed_count: the floats pirec_gemm_pack_a writes for A [m][k].
 * pack_a: A [m][k] (row-major) in blocks of 8 rows, packed[(b k + p) 8 + r] = A[8b + r][p]
 * (zero past m).
 * gemm: C [m][n] (row stride ldc) = A (packed) times B [k][n] in panels of 32 columns,
 * panels[(q k + p) 32 + j] = B[p][32q + j] (as pirec_winograd_input writes V; columns past n
 * are read but their products not stored). */
int pirec_gemm_available(void);
size_t pirec_gemm_packed_count(size_t m, size_t k);
void pirec_gemm_pack_a(const float *a, size_t m, size_t k, float *packed);
void pirec_gemm(const float *packed, size_t m, size_t k, const float *panels, size_t n, float *c, size_t ldc);

/* bf16 matrix products (pirec_bf16.c) for the Winograd domain's products: operands rounded to
 * bfloat16, products summed in fp32 by AVX512_BF16's vdpbf16ps (pairs of products a lane). */

/* 1 when this CPU has AVX512_BF16 (and AVX-512 F), else 0: the products below need it. */
int pirec_bf16_available(void);

/* out[i] = x[i] rounded to the nearest bfloat16 (ties to even), for i < count. */
void pirec_bf16_round(const float *x, size_t count, uint16_t *out);

/* Packs B [k][n] (fp32, row stride ldb, k even) for pirec_bf16_gemm, in panels of 32
 * columns: panels[(q * k / 2 + p) * 32 + j] holds the bf16 pair (B[2p][32q + j],
 * B[2p + 1][32q + j]), the first in the low half; columns past n are zero. Needs
 * ceil(n / 32) * 16 * k words. */
void pirec_bf16_pack(const float *b, size_t k, size_t n, size_t ldb, uint32_t *panels);

/* C [m][n] (fp32, row stride ldc) = A [m][k] (bf16, row-major, k even) times B as packed by
 * pirec_bf16_pack. Only where pirec_bf16_available() is 1. */
void pirec_bf16_gemm(const uint16_t *a, size_t m, size_t k, const uint32_t *panels, size_t n, float *c, size_t ldc);

#endif
