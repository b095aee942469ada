// pirec on CPUs without AVX-512, and without AVX2: the same `pirec run` under qemu-user
// emulating an Intel Haswell (AVX2 and FMA: the kernels' avx2 clones, OpenBLAS's Haswell
// kernels) and a Nehalem (SSE4.2: the baseline clones, OpenBLAS's own choice) gives the
// native run's picture. The chain passes through every C kernel with clones: the imaging
// kernels (Canny, median, k-means), the Winograd transforms (the full-width fixture
// generator at 64x64), OpenBLAS's products, and the learned upscaler. An instruction the
// emulated CPU lacks stops qemu with SIGILL.
import Foundation
import PirecCore
import PirecTestKit
import Testing

@Suite struct CPUFallbackTests {
    static let qemu = "/usr/bin/qemu-x86_64"

    static let config = """
        model_dir: \(TestPaths.fixture("network"))
        pipelines:
          - name: net
            chain:
              - plugin: resize
                with: { fit: 64 }
              - plugin: edge-extractor
                with: { sigma: 2 }
              - plugin: color-quantizer
                with: { median: 5, colors: 4 }
              - plugin: generator
                with: { model: wide.safetensors, threads: 2 }
              - plugin: upscaler
                with: { scale: 2, method: learned, model: upscaler_x2.safetensors }
        """

    func run(_ prefix: [String], in folder: String) throws -> (ProcessResult, String) {
        let out = folder + "/out-" + (prefix.last ?? "native")
        let arguments = ["run", "--config", folder + "/cpu.yaml", "--pipeline", "net",
                         TestPaths.repository + "/examples/astronaut_128x128.png", "-o", out]
        let result = prefix.isEmpty ? try TestProcess.run(TestPaths.pirec, arguments)
            : try TestProcess.run(CPUFallbackTests.qemu, Array(prefix.dropFirst()) + [TestPaths.pirec] + arguments)
        return (result, out + "/astronaut_128x128.png")
    }

    @Test(arguments: [("Haswell", "Haswell"), ("Nehalem", "")])
    func emulatedCPUsGiveTheNativePicture(cpu: String, openBLASCore: String) throws {
        #expect(FileManager.default.isExecutableFile(atPath: CPUFallbackTests.qemu),
                "qemu-user is missing (make test-deps installs it)")
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try TestPaths.write(CPUFallbackTests.config, to: folder + "/cpu.yaml")
        let (native, nativePicture) = try run([], in: folder)
        #expect(native.status == 0, "\(native.stderr)")
        let (emulated, emulatedPicture) = try run([CPUFallbackTests.qemu, "-cpu", cpu], in: folder)
        #expect(emulated.status == 0, "under qemu -cpu \(cpu): \(emulated.stderr.suffix(2000))")
        let a = try PNGCodec().read(path: nativePicture), b = try PNGCodec().read(path: emulatedPicture)
        #expect(a.width == 128 && a.height == 128 && b.width == a.width && b.height == a.height)
        var worst: Float = 0
        for y in 0..<a.height { for x in 0..<a.width { for c in 0..<3 { worst = max(worst, abs(a[x, y, c] - b[x, y, c])) } } }
        // Other OpenBLAS kernels sum in another order: a level at most, here and there.
        #expect(worst * 255 <= 1.5, "\(cpu): max difference \(worst * 255) levels")

        // pirec chose OpenBLAS's kernels from the emulated CPU's CPUID, not the host's.
        let bench = try TestProcess.run(CPUFallbackTests.qemu, [
            "-cpu", cpu, TestPaths.pirec, "bench", "--plugin", "resize", "--with", #"{"fit": 8}"#, "--repeat", "1",
            "--input", TestPaths.repository + "/examples/astronaut_128x128.png"])
        #expect(bench.status == 0, "\(bench.stderr.suffix(2000))")
        #expect(bench.stdout.contains(#""openblas_coretype": "\#(openBLASCore)""#), "\(bench.stdout)")
    }
}
