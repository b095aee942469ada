/* pirec_gemm.c - see pirec_network_kernels.h. fp32 products on AVX-512 for the Winograd
 * domain, where one side (the transformed weights) is known at load, packed then, and the
 * input transform writes the other in the kernel's panels: OpenBLAS's sgemm packs both on
 * every call and zeroes C first (together 8 % of a network run at 256x256 in `perf`). The
 * register block is 8 rows by 32 columns (16 accumulators), as pirec_bf16.c's. */
#include "pirec_network_kernels.h"

enum { ROWS = 8, COLUMNS = 32 };

size_t pirec_gemm_packed_count(size_t m, size_t k) { return (m + ROWS - 1) / ROWS * ROWS * k; }

void pirec_gemm_pack_a(const float *a, size_t m, size_t k, float *packed) {
    for (size_t b = 0; b < (m + ROWS - 1) / ROWS; b++)
        for (size_t p = 0; p < k; p++)
            for (size_t r = 0; r < ROWS; r++) {
                const size_t row = b * ROWS + r;
                packed[(b * k + p) * ROWS + r] = row < m ? a[row * k + p] : 0;
            }
}

#if defined(__x86_64__)
#include <immintrin.h>

int pirec_gemm_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

#define PIREC_AVX512 __attribute__((target("avx512f")))

/* rows (1...8) rows of C from one packed block of A over one panel, columns [0, width). */
PIREC_AVX512 static inline void block(const float *a, size_t rows, size_t k, const float *panel, size_t width,
                                      float *c, size_t ldc) {
    __m512 acc[ROWS][2];
    for (int r = 0; r < ROWS; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (size_t p = 0; p < k; p++) {
        const __m512 b0 = _mm512_loadu_ps(panel + p * COLUMNS), b1 = _mm512_loadu_ps(panel + p * COLUMNS + 16);
#pragma clang loop unroll(full)
        for (int r = 0; r < ROWS; r++) {
            const __m512 av = _mm512_set1_ps(a[p * ROWS + r]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    const __mmask16 m0 = width >= 16 ? 0xffff : (__mmask16)((1u << width) - 1);
    const __mmask16 m1 = width >= 32 ? 0xffff : width <= 16 ? 0 : (__mmask16)((1u << (width - 16)) - 1);
    for (size_t r = 0; r < rows; r++) {
        _mm512_mask_storeu_ps(c + r * ldc, m0, acc[r][0]);
        _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc[r][1]);
    }
}

PIREC_AVX512 void pirec_gemm(const float *packed, size_t m, size_t k, const float *panels, size_t n, float *c,
                             size_t ldc) {
    for (size_t q = 0; q < (n + COLUMNS - 1) / COLUMNS; q++) {
        const size_t col = q * COLUMNS, width = n - col < COLUMNS ? n - col : COLUMNS;
        const float *panel = panels + q * k * COLUMNS;
        for (size_t r = 0; r < m; r += ROWS)
            block(packed + r * k, m - r < ROWS ? m - r : ROWS, k, panel, width, c + r * ldc + col, ldc);
    }
}
#else
int pirec_gemm_available(void) { return 0; }

void pirec_gemm(const float *packed, size_t m, size_t k, const float *panels, size_t n, float *c, size_t ldc) {
    (void)packed; (void)m; (void)k; (void)panels; (void)n; (void)c; (void)ldc;
}
#endif
