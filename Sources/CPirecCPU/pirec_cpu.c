/* pirec_cpu.c - see pirec_cpu.h. GCC's __builtin_cpu_supports reads CPUID and checks that
 * the kernel saves the AVX and AVX-512 registers (XGETBV) before it reports them. */
#include "pirec_cpu.h"

unsigned pirec_cpu_features(void) {
    __builtin_cpu_init();
    unsigned features = 0;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) features |= PIREC_CPU_AVX2_FMA;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        features |= PIREC_CPU_AVX512;
    return features;
}
