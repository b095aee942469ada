// BLASEnvironment: picks OpenBLAS's kernels before any plugin loads it. OpenBLAS 0.3.21
// (Debian 12) does not recognise this project's Xeons and falls back to its SSE3
// "Prescott" kernels, which made the generator 3-4x slower (BENCHMARKS.md). OpenBLAS reads
// OPENBLAS_CORETYPE once, when it is loaded, so the host sets it first; a value the user
// set is kept. The CPU's instruction sets come from CPUID (CPirecCPU), not /proc/cpuinfo,
// which under qemu-user describes the host: the tests run pirec there on CPUs without
// AVX-512 (Tests/PirecCLITests/CPUFallbackTests.swift).
import CPirecCPU
import Glibc

public enum BLASEnvironment {
    /// The core type for this CPU's flags: AVX-512 (F, BW, VL) -> SkylakeX; AVX2 + FMA ->
    /// Haswell; otherwise nil (OpenBLAS's own choice).
    public static func coreType(cpuFlags: Set<String>) -> String? {
        if cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl"]) { return "SkylakeX" }
        if cpuFlags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// This CPU's flags that `coreType` reads, in /proc/cpuinfo's names.
    public static var cpuFlags: Set<String> {
        let features = pirec_cpu_features()
        var flags: Set<String> = []
        if features & PIREC_CPU_AVX2_FMA != 0 { flags.formUnion(["avx2", "fma"]) }
        if features & PIREC_CPU_AVX512 != 0 { flags.formUnion(["avx512f", "avx512bw", "avx512vl"]) }
        return flags
    }

    /// Sets OPENBLAS_CORETYPE from this CPU's flags unless it is set. Call before loading
    /// plugins. Returns the value in force.
    @discardableResult
    public static func prepare() -> String? {
        if let set = getenv("OPENBLAS_CORETYPE") { return String(cString: set) }
        guard let core = coreType(cpuFlags: cpuFlags) else { return nil }
        setenv("OPENBLAS_CORETYPE", core, 0)
        return core
    }
}
