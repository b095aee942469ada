/*
 * pirec_imaging_kernels.h - the innermost loops of the edge algorithms, in C so that each is
 * compiled for AVX-512, AVX2 and the x86-64 baseline and picked at load time
 * (target_clones): the Swift build targets the baseline only. Built with
 * -ffp-contract=off: every sum is formed in the same order, with the same roundings,
 * whichever variant runs, so results are identical to the last bit.
 */
#ifndef PIREC_IMAGING_KERNELS_H
#define PIREC_IMAGING_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Canny's steps 1-3 in one pass over `image` (w x h, `channels` 1 or 3 interleaved floats,
 * rows `stride` floats apart), row by row, holding only a few float64 rows at a time:
 *   luminance as pirec_luminance;
 *   skimage's Gaussian smoothing (skipped when `k` is NULL): along columns then rows as
 *   scipy's correlate1d with the symmetric kernel k[0..radius] (each output the centre tap
 *   plus the pairs t = radius..1, in that order, zeros outside the image), divided by the
 *   same filter applied to ones plus epsilon (weights[y]: the column pass of ones at row y);
 *   Sobel as scipy.ndimage.sobel (mirrored borders), magnitude sqrt(dy * dy + dx * dx), and
 *   non-maximum suppression interpolating along the gradient as skimage.
 * classes[i]: 0 not a maximum (or below `low`, or on the outer ring), 1 a maximum at or
 * above `low`, 2 one at or above `high` too. Returns -1 when out of memory, else 0. */
int pirec_canny_classes(const float *image, size_t channels, size_t stride, size_t w, size_t h, const double *k,
                        size_t radius, const double *weights, double low, double high, uint8_t *classes);

/* Canny's hysteresis: classes[i] becomes 1 where it is in an 8-connected run of nonzero
 * classes holding a 2, else 0. `stack` holds w * h entries. */
void pirec_canny_hysteresis(uint8_t *classes, size_t w, size_t h, int32_t *stack);

/* dst[i] = mask[i] (0 or 1) as float. */
void pirec_mask_to_float(const uint8_t *mask, size_t count, float *dst);

/* Luminance as scikit-image's rgb2gray, ((r * 0.2125 + g * 0.7154) + b * 0.0721), of
 * `count` interleaved RGB float samples (or a copy when `channels` is 1). A sample that is
 * exactly an 8-bit level as the host decodes one (level * (1.0f / 255)) is taken as
 * skimage takes uint8 input, level * (1.0 / 255) in double. */
void pirec_luminance(const float *src, size_t channels, double *dst, size_t count);

#endif
