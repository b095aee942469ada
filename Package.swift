// swift-tools-version: 6.1
// pirec: sketches and flat colour in, finished pictures out. See README.md.
import PackageDescription

// Plugins are shared libraries named libpirec-ID.so, loaded by the host at run time.
// `-z nodelete` keeps a Swift plugin mapped even if something dlcloses it.
let pluginLinkerSettings: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "-z", "-Xlinker", "nodelete"])]

let package = Package(
    name: "pirec",
    products: [
        .executable(name: "pirec", targets: ["pirec"]),
        .executable(name: "pirecd", targets: ["pirecd"]),
        .library(name: "pirec-upscaler", type: .dynamic, targets: ["Upscaler"]),
        .library(name: "pirec-resize", type: .dynamic, targets: ["Resize"]),
        .library(name: "pirec-edge-extractor", type: .dynamic, targets: ["EdgeExtractor"]),
        .library(name: "pirec-color-quantizer", type: .dynamic, targets: ["ColorQuantizer"]),
        .library(name: "pirec-generator", type: .dynamic, targets: ["Generator"]),
        .library(name: "pirec-refiner", type: .dynamic, targets: ["Refiner"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System libraries (Debian -dev packages; `make deps` installs them).
        .systemLibrary(name: "CLibPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CLibYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        // The plugin ABI: one header, the whole contract.
        .target(name: "CPirecPlugin"),
        // libpng behind setjmp: Swift cannot survive a longjmp, so the C side catches it.
        .target(name: "CPirecPNG", dependencies: ["CLibPNG"]),
        // glibc's mallopt, which the Glibc module does not export (see HeapTuning).
        .target(name: "CPirecHeap"),
        // The instruction sets the CPU runs, from CPUID (BLASEnvironment picks OpenBLAS kernels by them).
        .target(name: "CPirecCPU"),

        // Plugin parameters: the declarations and the one checker the host and the plugin kit share.
        .target(name: "PirecParameters"),
        .target(
            name: "PirecCore",
            dependencies: [
                "CPirecPlugin", "CPirecPNG", "CPirecHeap", "CPirecCPU", "CLibYAML", "PirecParameters",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(name: "PirecPluginKit", dependencies: ["CPirecPlugin", "PirecParameters", "PirecImageView"]),
        // The image layout the algorithms work on, apart from the plugin kit and the host.
        .target(name: "PirecImageView"),
        // The inference engine for PI-REC's networks, on OpenBLAS.
        .target(name: "PirecInference", dependencies: ["COpenBLAS", "CPirecNetworkKernels"], swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        // The plugin state the generator and refiner share.
        .target(name: "PirecNetworkPlugin", dependencies: ["PirecInference", "PirecPluginKit"]),
        // Hot loops compiled per instruction set (AVX-512, AVX2, baseline), chosen at load time:
        // the edge algorithms' and the inference engine's.
        .target(name: "CPirecImagingKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off", "-fno-math-errno"])]),
        .target(name: "CPirecNetworkKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off", "-fno-math-errno"])]),
        // The classical image algorithms behind the plugins (resampling, Canny, median, k-means),
        // a library so tests can check them against references directly.
        .target(
            name: "PirecImaging", dependencies: ["PirecImageView", "CPirecImagingKernels"], swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        // The shared job queue of several hosts: the job table in PostgreSQL and its claim protocol.
        .target(name: "PirecQueue", dependencies: [
            "PirecCore", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
        ]),
        // What pirecd did, read back from its job log and sidecars, as an HTML page (`pirec report`).
        .target(name: "PirecReport"),
        // The daemon: inotify, durable claims, sd_notify, reload, the shared queue's use;
        // `pirecd` is its front door.
        .target(name: "PirecDaemon", dependencies: [
            "PirecCore", "PirecParameters", "PirecQueue", .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .executableTarget(
            name: "pirecd",
            dependencies: [
                "PirecDaemon", "PirecCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "pirec",
            dependencies: [
                "PirecCore", "PirecDaemon", "PirecQueue", "PirecReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Shipped plugins. Explicit paths: `Plugins/` is also SwiftPM's folder for its own package plugins.
        .target(
            name: "Upscaler", dependencies: ["PirecPluginKit", "PirecImaging", "PirecInference", "CPirecPlugin"],
            path: "Plugins/Upscaler/Sources", linkerSettings: pluginLinkerSettings),
        .target(
            name: "Resize", dependencies: ["PirecPluginKit", "PirecImaging", "CPirecPlugin"],
            path: "Plugins/Resize/Sources", linkerSettings: pluginLinkerSettings),
        .target(
            name: "EdgeExtractor", dependencies: ["PirecPluginKit", "PirecImaging", "CPirecPlugin", "CPirecImagingKernels"],
            path: "Plugins/EdgeExtractor/Sources", linkerSettings: pluginLinkerSettings),
        .target(
            name: "ColorQuantizer", dependencies: ["PirecPluginKit", "PirecImaging", "CPirecPlugin"],
            path: "Plugins/ColorQuantizer/Sources", linkerSettings: pluginLinkerSettings),

        // The parsers run on outside bytes as fuzz targets (make fuzz); `pirec-fuzz` is libFuzzer's
        // entry when built with -sanitize=fuzzer, a replayer of saved inputs otherwise.
        .target(name: "PirecFuzzTargets", dependencies: ["PirecCore", "PirecInference"]),
        .executableTarget(name: "pirec-fuzz", dependencies: ["PirecFuzzTargets", "PirecCore"]),

        // Test support: paths, temporary folders, building C plugins, running the CLI.
        .target(
            name: "PirecTestKit",
            dependencies: ["PirecCore", .product(name: "Logging", package: "swift-log")]),
        // Tests load the built plugins and run the built `pirec` from the build folder, as
        // users do; `make test` builds everything first (swift build --build-tests).
        .testTarget(name: "PirecCoreTests", dependencies: ["PirecCore", "PirecTestKit"]),
        .testTarget(name: "PirecParametersTests", dependencies: ["PirecParameters"]),
        .testTarget(name: "PirecQueueTests", dependencies: [
            "PirecQueue", "PirecTestKit", .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        .testTarget(name: "PirecPluginKitTests", dependencies: ["PirecPluginKit", "CPirecPlugin"]),
        .testTarget(name: "PirecCLITests", dependencies: ["PirecCore", "PirecTestKit"]),
        .testTarget(name: "PirecdTests", dependencies: ["PirecCore", "PirecDaemon", "PirecQueue", "PirecTestKit"]),
        .testTarget(name: "SystemLibraryTests", dependencies: ["COpenBLAS", "PirecTestKit"]),
        .testTarget(name: "PirecInferenceTests", dependencies: ["PirecInference", "PirecTestKit"]),
        .testTarget(name: "PirecImagingTests", dependencies: ["PirecImaging", "PirecCore", "PirecTestKit"]),
        .testTarget(name: "PirecFuzzTests", dependencies: ["PirecFuzzTargets", "PirecCore", "PirecTestKit"]),
        .target(
            name: "Generator", dependencies: ["PirecNetworkPlugin", "PirecPluginKit", "CPirecPlugin"],
            path: "Plugins/Generator/Sources", linkerSettings: pluginLinkerSettings),
        .target(
            name: "Refiner", dependencies: ["PirecNetworkPlugin", "PirecPluginKit", "CPirecPlugin"],
            path: "Plugins/Refiner/Sources", linkerSettings: pluginLinkerSettings),
        .testTarget(
            name: "GeneratorTests", dependencies: ["PirecCore", "PirecInference", "PirecTestKit"],
            path: "Plugins/Generator/Tests"),
        .testTarget(name: "RefinerTests", dependencies: ["PirecCore", "PirecTestKit"], path: "Plugins/Refiner/Tests"),
        .testTarget(name: "ResizeTests", dependencies: ["PirecCore", "PirecTestKit"], path: "Plugins/Resize/Tests"),
        .testTarget(
            name: "EdgeExtractorTests", dependencies: ["PirecCore", "PirecTestKit"], path: "Plugins/EdgeExtractor/Tests"),
        .testTarget(
            name: "ColorQuantizerTests", dependencies: ["PirecCore", "PirecTestKit"],
            path: "Plugins/ColorQuantizer/Tests"),
        .testTarget(
            name: "UpscalerTests", dependencies: ["PirecCore", "PirecInference", "PirecTestKit"],
            path: "Plugins/Upscaler/Tests"),
    ]
)
