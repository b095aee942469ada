/* bf16_rounding.h - rounding floats to bfloat16 (ties to even, NaN kept quiet), for the C
 * files that pack bf16 operands (pirec_bf16.c, pirec_rearrange.c); not part of the API. */
#ifndef PIREC_BF16_ROUNDING_H
#define PIREC_BF16_ROUNDING_H

#include <stdint.h>

typedef uint32_t v16u __attribute__((vector_size(64), aligned(4)));

/* The bf16 bits of the floats whose bits are u (as 32-bit lanes, in the low half), ties to
 * even; NaN stays NaN. A macro: a vector argument would take each clone's ABI. */
#define ROUND16(u) \
    (((((u) + 0x7fffu + (((u) >> 16) & 1u)) >> 16) & ~(v16u)((v16u)((u) & 0x7fffffffu) > 0x7f800000u)) \
        | ((((u) >> 16) | 0x40u) & (v16u)((v16u)((u) & 0x7fffffffu) > 0x7f800000u)))

static inline uint32_t round1(uint32_t u) {
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

#endif
