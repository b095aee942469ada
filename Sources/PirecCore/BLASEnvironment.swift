// BLASEnvironment: picks OpenBLAS's kernels before any plugin loads it. OpenBLAS 0.3.21
// (Debian 12) does not recognise this project's Xeons and falls back to its SSE3
// "Prescott" kernels, which made the generator 3-4x slower (BENCHMARKS.md). OpenBLAS reads
// OPENBLAS_CORETYPE once, when it is loaded, so the host sets it first; a value the user
// set is kept.
import Glibc

public enum BLASEnvironment {
    /// The core type for this CPU's flags: AVX-512 (F, BW, VL) -> SkylakeX; AVX2 + FMA ->
    /// Haswell; otherwise nil (OpenBLAS's own choice).
    public static func coreType(cpuFlags: Set<String>) -> String? {
        if cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl"]) { return "SkylakeX" }
        if cpuFlags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// Sets OPENBLAS_CORETYPE from /proc/cpuinfo unless it is set. Call before loading plugins.
    /// Returns the value in force.
    @discardableResult
    public static func prepare() -> String? {
        if let set = getenv("OPENBLAS_CORETYPE") { return String(cString: set) }
        guard let bytes = try? FileIO.readAll(path: "/proc/cpuinfo", maxBytes: 1 << 22) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        guard let core = coreType(cpuFlags: flags) else { return nil }
        setenv("OPENBLAS_CORETYPE", core, 0)
        return core
    }
}
