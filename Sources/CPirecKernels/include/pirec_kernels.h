/*
 * pirec_kernels.h - the innermost loops of the edge algorithms, in C so that each is
 * compiled for AVX-512, AVX2 and the x86-64 baseline and picked at load time
 * (target_clones): the Swift build targets the baseline only. Built with
 * -ffp-contract=off: every sum is formed in the same order, with the same roundings,
 * whichever variant runs, so results are identical to the last bit.
 */
#ifndef PIREC_KERNELS_H
#define PIREC_KERNELS_H

#include <stddef.h>

/* dst[x] = centre[x] * k[0] + sum over t = radius..1 of (above[t][x] + below[t][x]) * k[t],
 * added in that order (scipy's correlate1d for a symmetric kernel). `above[t]` and
 * `below[t]` are the rows t away from the centre row (zero rows outside the image). */
void pirec_symmetric_rows(const double *centre, const double *const *above, const double *const *below,
                          double *dst, size_t count, const double *k, size_t radius);

/* dst[x] = src[x] * k[0] + sum over t = radius..1 of (src[x - t] + src[x + t]) * k[t];
 * src must be readable from -radius to count + radius - 1. */
void pirec_symmetric_row(const double *src, double *dst, size_t count, const double *k, size_t radius);

/* Luminance as scikit-image's rgb2gray, ((r * 0.2125 + g * 0.7154) + b * 0.0721), of
 * `count` interleaved RGB float samples (or a copy when `channels` is 1). A sample that is
 * exactly an 8-bit level as the host decodes one (level * (1.0f / 255)) is taken as
 * skimage takes uint8 input, level * (1.0 / 255) in double. */
void pirec_luminance(const float *src, size_t channels, double *dst, size_t count);

/* A stride-1 convolution with 3 output channels, direct (no im2col): for output rows
 * [y0, y1) of `out` [3][ho][wo], out = bias + sum over ci, ki, kj of
 * w[co][ci][ki][kj] * in[ci][y + ki][x + kj], where `in` [cin][ph][pw] is already padded
 * (ph = ho + k - 1, pw = wo + k - 1). For the network's last layer, whose three output
 * channels make an im2col matrix product mostly memory traffic. */
void pirec_conv_direct3(const float *in, size_t cin, size_t ph, size_t pw, const float *w, const float *bias,
                        size_t k, float *out, size_t ho, size_t wo, size_t y0, size_t y1);

#endif
