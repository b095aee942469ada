/* pirec_png.c - decode and encode PNG through libpng; see pirec_png.h. */
#include "pirec_png.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct io_state {
    const uint8_t *bytes;
    size_t length;
    size_t offset;
    uint8_t *out;
    size_t out_length;
    size_t out_capacity;
    char *err;
    size_t errlen;
    jmp_buf jump;
} io_state;

static void on_error(png_structp png, png_const_charp message) {
    io_state *io = (io_state *)png_get_error_ptr(png);
    if (io->err[0] == '\0')
        snprintf(io->err, io->errlen, "%s", message);
    longjmp(io->jump, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message; /* benign (unknown chunks, sRGB profile quirks): ignore */
}

static void read_bytes(png_structp png, png_bytep data, png_size_t length) {
    io_state *io = (io_state *)png_get_io_ptr(png);
    if (length > io->length - io->offset) {
        snprintf(io->err, io->errlen, "file is truncated (unexpected end of data at byte %zu)", io->length);
        png_error(png, io->err);
    }
    memcpy(data, io->bytes + io->offset, length);
    io->offset += length;
}

int pirec_png_decode(const uint8_t *bytes, size_t length, uint64_t max_pixels,
                     pirec_png_pixels *out, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    if (errlen == 0) return -1;
    err[0] = '\0';
    if (length == 0) {
        snprintf(err, errlen, "empty file (0 bytes)");
        return -1;
    }
    if (length < 8 || png_sig_cmp(bytes, 0, 8) != 0) {
        snprintf(err, errlen, "not a PNG file (bad signature)");
        return -1;
    }
    io_state io = {.bytes = bytes, .length = length, .err = err, .errlen = errlen};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(&png, &info, NULL);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(io.jump)) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_set_read_fn(png, &io, read_bytes);
    /* Our own pixel limit applies below; lift libpng's smaller defaults on dimensions. */
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    /* Text, ICC profiles, suggested palettes and Exif are never used, and each may be a
     * compressed bomb that libpng inflates and keeps: the PNG fuzzer ran out of memory on
     * them (Tests/Fuzz/regressions/png/ztxt-bomb.png, 123 KB, took 150 MB; libpng allows
     * 1000 such chunks of 8 MB). Skip them, and bound what any other chunk may hold. */
    static const png_byte ignored[] = "tEXt\0zTXt\0iTXt\0iCCP\0sPLT\0eXIf";
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, ignored, (int)(sizeof ignored / 5));
    png_set_chunk_cache_max(png, 64);
    png_set_chunk_malloc_max(png, 1 << 20);
    png_read_info(png, info);

    uint32_t width = png_get_image_width(png, info);
    uint32_t height = png_get_image_height(png, info);
    if ((uint64_t)width * (uint64_t)height > max_pixels) {
        snprintf(err, errlen, "image is %ux%u (%llu pixels), over the limit of %llu pixels",
                 width, height, (unsigned long long)width * height, (unsigned long long)max_pixels);
        png_error(png, err);
    }
    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_swap(png); /* PNG is big-endian; we want native (little-endian) */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    uint32_t channels = png_get_channels(png, info);
    uint32_t out_depth = png_get_bit_depth(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (rowbytes != (size_t)width * channels * (out_depth / 8)) {
        snprintf(err, errlen, "unsupported pixel layout (%u channels, %u bits)", channels, out_depth);
        png_error(png, err);
    }
    pixels = (uint8_t *)malloc(rowbytes * height);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (!pixels || !rows) {
        snprintf(err, errlen, "out of memory for %ux%u image", width, height);
        png_error(png, err);
    }
    for (uint32_t y = 0; y < height; y++) rows[y] = pixels + (size_t)y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->bit_depth = out_depth;
    out->data = pixels;
    return 0;
}

static void write_bytes(png_structp png, png_bytep data, png_size_t length) {
    io_state *io = (io_state *)png_get_io_ptr(png);
    if (length > io->out_capacity - io->out_length) {
        size_t capacity = io->out_capacity ? io->out_capacity : 65536;
        while (capacity - io->out_length < length) capacity *= 2;
        uint8_t *grown = (uint8_t *)realloc(io->out, capacity);
        if (!grown) png_error(png, "out of memory while encoding");
        io->out = grown;
        io->out_capacity = capacity;
    }
    memcpy(io->out + io->out_length, data, length);
    io->out_length += length;
}

static void flush_bytes(png_structp png) { (void)png; }

int pirec_png_encode(const void *pixels, uint32_t width, uint32_t height, uint32_t channels,
                     uint32_t bit_depth, uint8_t **out, size_t *out_length, char *err, size_t errlen) {
    *out = NULL;
    *out_length = 0;
    if (errlen == 0) return -1;
    err[0] = '\0';
    if ((channels != 1 && channels != 3) || (bit_depth != 8 && bit_depth != 16) || width == 0 || height == 0) {
        snprintf(err, errlen, "cannot encode %ux%u image with %u channels at %u bits", width, height, channels, bit_depth);
        return -1;
    }
    io_state io = {.err = err, .errlen = errlen};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (setjmp(io.jump)) {
        free(io.out);
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_set_write_fn(png, &io, write_bytes, flush_bytes);
    png_set_IHDR(png, info, width, height, (int)bit_depth,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (bit_depth == 16) png_set_swap(png);
    size_t rowbytes = (size_t)width * channels * (bit_depth / 8);
    for (uint32_t y = 0; y < height; y++)
        png_write_row(png, (png_const_bytep)pixels + (size_t)y * rowbytes);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    *out = io.out;
    *out_length = io.out_length;
    return 0;
}
