// HeapTuning: keeps large image buffers in the heap between jobs. glibc serves an
// allocation above its mmap threshold with a fresh mmap and unmaps it when freed, and its
// dynamic threshold never rises past a same-size request, so every job's multi-megabyte
// planes came back as new pages: a page fault and a zeroed page each 4 KiB. That was a
// quarter of a 1024x1024 Canny step (BENCHMARKS.md). Above these sizes glibc still maps.
import CPirecHeap
import Glibc

public enum HeapTuning {
    /// Allocations under 64 MiB come from the heap; up to 256 MiB of freed heap is kept.
    /// Call at start, before threads exist. A value the user set (GLIBC_TUNABLES) is kept.
    public static func keepLargeBuffers() {
        if let tunables = getenv("GLIBC_TUNABLES"), String(cString: tunables).contains("malloc.") { return }
        _ = pirec_heap_keep(64 << 20, 256 << 20)
    }
}
