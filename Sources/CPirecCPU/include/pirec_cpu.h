/* pirec_cpu.h - the instruction sets this CPU runs, from CPUID and the state the kernel
 * saves (XGETBV), as the instructions see them. /proc/cpuinfo can describe another CPU:
 * under an emulator such as qemu-user it is the host's, and a choice made from it would
 * run instructions the emulated CPU lacks. */
#ifndef PIREC_CPU_H
#define PIREC_CPU_H

#define PIREC_CPU_AVX2_FMA 1u     /* AVX2 and FMA3: OpenBLAS's Haswell kernels */
#define PIREC_CPU_AVX512 2u       /* AVX-512 F, BW and VL: OpenBLAS's SkylakeX kernels */

/* The PIREC_CPU_* bits this CPU has. Any thread, any time. */
unsigned pirec_cpu_features(void);

#endif
