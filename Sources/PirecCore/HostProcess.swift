// HostProcess: what a process that loads plugins sets up first, before any plugin loads
// OpenBLAS and before any job allocates: OpenBLAS's kernels (BLASEnvironment) and glibc's
// handling of large buffers (HeapTuning). pirec and pirecd call it at start.
public enum HostProcess {
    public static func prepare() {
        BLASEnvironment.prepare()
        HeapTuning.keepLargeBuffers()
    }
}
