/* pirec_bf16.c - see pirec_network_kernels.h. The product's register block is 8 rows of A by
 * 32 columns of B (16 accumulators of 16 lanes); B's panel for one block of columns is
 * contiguous, so it streams from L1 while every row of A passes over it. */
#include "pirec_network_kernels.h"
#include "bf16_rounding.h"

#include <string.h>

#if defined(__x86_64__) && defined(__ELF__)
#define PIREC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PIREC_CLONES
#endif

PIREC_CLONES
void pirec_bf16_round(const float *x, size_t count, uint16_t *out) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        v16u u;
        memcpy(&u, x + i, sizeof u);
        v16u r = ROUND16(u);
        for (int j = 0; j < 16; j++) out[i + j] = (uint16_t)r[j];
    }
    for (; i < count; i++) {
        uint32_t u;
        memcpy(&u, x + i, sizeof u);
        out[i] = (uint16_t)round1(u);
    }
}

PIREC_CLONES
void pirec_bf16_pack(const float *b, size_t k, size_t n, size_t ldb, uint32_t *panels) {
    const size_t pairs = k / 2, count = (n + 31) / 32;
    for (size_t q = 0; q < count; q++) {
        const size_t col = q * 32, width = n - col < 32 ? n - col : 32;
        uint32_t *panel = panels + q * pairs * 32;
        for (size_t p = 0; p < pairs; p++) {
            const float *r0 = b + 2 * p * ldb + col, *r1 = r0 + ldb;
            uint32_t *out = panel + p * 32;
            if (width == 32) {
                for (int h = 0; h < 2; h++) {
                    v16u u0, u1;
                    memcpy(&u0, r0 + 16 * h, sizeof u0);
                    memcpy(&u1, r1 + 16 * h, sizeof u1);
                    v16u pair = (ROUND16(u0)) | ((ROUND16(u1)) << 16);
                    memcpy(out + 16 * h, &pair, sizeof pair);
                }
            } else {
                for (size_t j = 0; j < 32; j++) {
                    uint32_t u0 = 0, u1 = 0;
                    if (j < width) {
                        memcpy(&u0, r0 + j, 4);
                        memcpy(&u1, r1 + j, 4);
                        out[j] = round1(u0) | (round1(u1) << 16);
                    } else {
                        out[j] = 0;
                    }
                }
            }
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

int pirec_bf16_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
}

#define PIREC_BF16 __attribute__((target("avx512f,avx512bf16")))

/* rows (1...8) rows of C from row pointer a (stride k) over one packed panel, columns [0, width). */
PIREC_BF16 static inline void block(const uint16_t *a, size_t rows, size_t k, const uint32_t *panel,
                                    size_t width, float *c, size_t ldc) {
    __m512 acc[8][2];
    for (int r = 0; r < 8; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    const size_t pairs = k / 2;
    const uint32_t *a32[8];
    for (size_t r = 0; r < 8; r++) a32[r] = (const uint32_t *)(a + (r < rows ? r : 0) * k);
    for (size_t p = 0; p < pairs; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(panel + p * 32);
        __m512bh b1 = (__m512bh)_mm512_loadu_si512(panel + p * 32 + 16);
#pragma clang loop unroll(full)
        for (int r = 0; r < 8; r++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)a32[r][p]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
        }
    }
    const __mmask16 m0 = width >= 16 ? 0xffff : (__mmask16)((1u << width) - 1);
    const __mmask16 m1 = width >= 32 ? 0xffff : width <= 16 ? 0 : (__mmask16)((1u << (width - 16)) - 1);
    for (size_t r = 0; r < rows; r++) {
        _mm512_mask_storeu_ps(c + r * ldc, m0, acc[r][0]);
        _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc[r][1]);
    }
}

PIREC_BF16 void pirec_bf16_gemm(const uint16_t *a, size_t m, size_t k, const uint32_t *panels, size_t n,
                                float *c, size_t ldc) {
    const size_t count = (n + 31) / 32, pairs = k / 2;
    for (size_t q = 0; q < count; q++) {
        const size_t col = q * 32, width = n - col < 32 ? n - col : 32;
        const uint32_t *panel = panels + q * pairs * 32;
        for (size_t r = 0; r < m; r += 8)
            block(a + r * k, m - r < 8 ? m - r : 8, k, panel, width, c + r * ldc + col, ldc);
    }
}
#else
int pirec_bf16_available(void) { return 0; }

void pirec_bf16_gemm(const uint16_t *a, size_t m, size_t k, const uint32_t *panels, size_t n, float *c, size_t ldc) {
    (void)a; (void)m; (void)k; (void)panels; (void)n; (void)c; (void)ldc;
}
#endif
