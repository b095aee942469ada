// PirecTestKit: what the test suites share: where the repository, the fixtures and the built
// binaries are, temporary folders, building C plugins with cc, and running the CLI.
import Foundation

public enum TestPaths {
    /// The repository root (this file is Sources/PirecTestKit/TestPaths.swift).
    public static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static func fixture(_ relative: String) -> String { repository + "/Tests/Fixtures/" + relative }

    /// The build folder holding the test binary, the `pirec` executable and the plugin .so files.
    public static let build: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().path
    }()

    public static var pirec: String { build + "/pirec" }

    public static func plugin(_ id: String) -> String { build + "/libpirec-\(id).so" }

    /// A new empty folder under /tmp.
    public static func temporaryFolder() -> String {
        var template = Array("/tmp/pirec-test-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(path != nil, "mkdtemp failed")
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }
}

public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

private final class DataBox: @unchecked Sendable {  // written by the reader thread, read after `done`
    var data = Data()
    let done = DispatchSemaphore(value: 0)
}

public enum TestProcess {
    /// Runs a program to completion with no standard input.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil)
        throws -> ProcessResult
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain stderr on another thread while reading stdout, so a chatty child never blocks.
        let errBox = DataBox()
        let reader = Thread { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); errBox.done.signal() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        errBox.done.wait()
        let stderrData = errBox.data
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// Runs the `pirec` command line.
    public static func pirec(_ arguments: String...) throws -> ProcessResult {
        try run(TestPaths.pirec, arguments)
    }

    /// Builds Tests/CPlugins/invert.c (or a broken variant, via `-D` defines) into `output`.
    public static func buildCPlugin(_ output: String, defines: [String] = [], source: String = "invert.c") throws {
        let result = try run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror",
                                              "-I", TestPaths.repository + "/Sources/CPirecPlugin/include"]
            + defines.map { "-D" + $0 } + [TestPaths.repository + "/Tests/CPlugins/" + source, "-o", output])
        guard result.status == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cc failed: \(result.stderr)"])
        }
    }
}
