// pirec-fuzz: the fuzz targets' entry. Built with -sanitize=fuzzer (make fuzz, FUZZER
// defined) its main hands over to libFuzzer's driver (LLVMFuzzerRunDriver: SwiftPM names
// an executable's entry itself, so libFuzzer's own main cannot be it); the target comes
// from PIREC_FUZZ_TARGET, the fixed plugin catalog from PIREC_FUZZ_PLUGINS (a folder of
// built plugins). Built plainly it replays files: `pirec-fuzz TARGET FILE...`.
import Foundation
import PirecCore
import PirecFuzzTargets

/// What every call needs, made once: libFuzzer calls the entry with no context of ours.
struct FuzzSetup {
    let target: FuzzTarget
    let context: FuzzContext

    init(target: FuzzTarget, environment: [String: String]) {
        self.target = target
        context = FuzzContext(plugins: environment["PIREC_FUZZ_PLUGINS"].map { [$0] } ?? [])
    }

    static func fromEnvironment() -> FuzzSetup {
        let environment = ProcessInfo.processInfo.environment
        guard let name = environment["PIREC_FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("pirec-fuzz: set PIREC_FUZZ_TARGET to one of \(names)\n".utf8))
            exit(2)
        }
        return FuzzSetup(target: target, environment: environment)
    }
}

let setup = FuzzSetup.fromEnvironment()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    setup.target.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)), in: setup.context)
    return 0
}

#if FUZZER
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>,
               _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@main struct Fuzz {
    static func main() {
        _ = setup  // an unknown target is refused before libFuzzer starts
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
    }
}
#else
@main struct Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            FileHandle.standardError.write(Data("usage: pirec-fuzz \(names) FILE...\n".utf8))
            exit(2)
        }
        let replay = FuzzSetup(target: target, environment: ProcessInfo.processInfo.environment)
        for path in arguments.dropFirst() {
            guard let bytes = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("pirec-fuzz: cannot read \(path)\n".utf8))
                exit(1)
            }
            replay.target.run([UInt8](bytes), in: replay.context)
            print("\(path): ok")
        }
    }
}
#endif
