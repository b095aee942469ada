/*
 * pirec_png.h - libpng behind a plain C call. libpng reports errors with
 * longjmp, which must never cross Swift frames, so every libpng call happens
 * here and errors come back as a status and a message.
 */
#ifndef PIREC_PNG_H
#define PIREC_PNG_H

#include <stddef.h>
#include <stdint.h>

/* Decoded pixels after expansion: palette -> RGB(A), gray < 8 bit -> 8 bit,
 * tRNS -> alpha. 16-bit samples are native-endian uint16. */
typedef struct pirec_png_pixels {
    uint32_t width;
    uint32_t height;
    uint32_t channels;  /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
    uint32_t bit_depth; /* 8 or 16 */
    void *data;         /* rows packed, width * channels * bit_depth/8 bytes each; free() it */
} pirec_png_pixels;

/* Decodes a PNG held in memory. Refuses images of more than `max_pixels`
 * before allocating them. Returns 0 and fills `out`, or -1 with a message. */
int pirec_png_decode(const uint8_t *bytes, size_t length, uint64_t max_pixels,
                     pirec_png_pixels *out, char *err, size_t errlen);

/* Encodes packed 8- or 16-bit (native-endian) pixels with 1 or 3 channels.
 * Returns 0 and a malloc'ed buffer in *out (free() it), or -1 with a message. */
int pirec_png_encode(const void *pixels, uint32_t width, uint32_t height, uint32_t channels,
                     uint32_t bit_depth, uint8_t **out, size_t *out_length, char *err, size_t errlen);

#endif
