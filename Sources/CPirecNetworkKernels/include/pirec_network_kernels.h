/*
 * pirec_network_kernels.h - the inference engine's loops that are not matrix products, in C
 * so that each is compiled for AVX-512, AVX2 and the x86-64 baseline and picked at load time
 * (target_clones): the Swift build targets the baseline only. Built with -ffp-contract=off.
 */
#ifndef PIREC_NETWORK_KERNELS_H
#define PIREC_NETWORK_KERNELS_H

#include <stddef.h>

/* A stride-1 convolution with 3 output channels, direct (no im2col): for output rows
 * [y0, y1) of `out` [3][ho][wo], out = bias + sum over ci, ki, kj of
 * w[co][ci][ki][kj] * in[ci][y + ki][x + kj], where `in` [cin][ph][pw] is already padded
 * (ph = ho + k - 1, pw = wo + k - 1). For the network's last layer, whose three output
 * channels make an im2col matrix product mostly memory traffic. */
void pirec_conv_direct3(const float *in, size_t cin, size_t ph, size_t pw, const float *w, const float *bias,
                        size_t k, float *out, size_t ho, size_t wo, size_t y0, size_t y1);

#endif
