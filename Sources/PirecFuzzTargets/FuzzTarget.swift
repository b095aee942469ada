// FuzzTarget: the parsers pirecd runs on bytes from outside, one fuzz target each, with the
// properties every input must keep (a broken one traps, which libFuzzer reports as a
// crash). `pirec-fuzz` runs them under libFuzzer (`make fuzz`) and replays saved inputs;
// FuzzCorpusTests replays the committed corpora and regressions in `make test`.
import Foundation
import PirecCore
import PirecInference

/// What the targets share across inputs, made once per process.
public struct FuzzContext: Sendable {
    /// The fixed plugin catalog the configuration target checks steps against.
    public let catalog: PluginCatalog
    /// A folder holding a few files (`taken.png`, `taken.1.png`, `notes`) that the names
    /// target finds free names beside.
    public let scratch: String
    static let taken = ["taken.png", "taken.1.png", "notes"]

    /// `plugins`: folders of built plugins (the shipped ones).
    public init(plugins: [String]) {
        catalog = PluginCatalog(directories: plugins, insecure: true)
        var template = Array("/tmp/pirec-fuzz-XXXXXX".utf8CString)
        scratch = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        for name in FuzzContext.taken { FileManager.default.createFile(atPath: scratch + "/" + name, contents: nil) }
    }
}

public enum FuzzTarget: String, CaseIterable, Sendable {
    /// PNG decoding through libpng (PNGCodec), with pixel and file-size limits.
    case png
    /// YAML configuration into Configuration, each step's `with:` checked against the catalog.
    case configuration
    /// safetensors headers and tensor tables (SafeTensorsFile), then the network's layout
    /// (GeneratorModel).
    case safetensors
    /// Inbox names: which half of a pair a file is and its partner's name (for fuzzed
    /// suffixes), which names are never inputs, and the free name a moved file gets.
    case names

    /// Runs one input.
    public func run(_ bytes: [UInt8], in context: FuzzContext) {
        switch self {
        case .png: FuzzTarget.png(bytes)
        case .configuration: FuzzTarget.configuration(bytes, catalog: context.catalog)
        case .safetensors: FuzzTarget.safetensors(bytes)
        case .names: FuzzTarget.names(bytes, scratch: context.scratch)
        }
    }

    /// Limits small enough that a fuzzed header cannot make an iteration slow.
    static let pngCodec = PNGCodec(maxPixels: 1 << 20, maxFileBytes: 1 << 20)

    static func png(_ bytes: [UInt8]) {
        guard let image = try? pngCodec.decode(bytes, path: "fuzz.png") else { return }
        precondition(image.width * image.height <= pngCodec.maxPixels, "decoded past the pixel limit")
        precondition(image.channels == 1 || image.channels == 3, "\(image.channels) channels")
        for y in 0..<image.height {
            let row = image.row(y)
            for i in 0..<(image.width * image.channels) { precondition(row[i] >= 0 && row[i] <= 1, "sample \(row[i])") }
        }
        // What pirec writes, it reads back: the same size and 8-bit samples.
        let encoded: [UInt8]
        do { encoded = try pngCodec.encode(image) } catch { preconditionFailure("cannot encode a decoded image: \(error)") }
        let back: Image
        do { back = try pngCodec.decode(encoded, path: "fuzz.png") } catch { preconditionFailure("cannot read our PNG: \(error)") }
        precondition(back.width == image.width && back.height == image.height && back.channels == image.channels)
        for y in 0..<image.height {
            let a = image.row(y), b = back.row(y)
            for i in 0..<(image.width * image.channels) { precondition(abs(a[i] - b[i]) <= 0.5 / 255 + 1e-6) }
        }
    }

    static func configuration(_ bytes: [UInt8], catalog: PluginCatalog) {
        let file = "/fuzz/pirec.yaml"
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        // At most as many lines as YAML counts (CR LF, CR, LF, NEL, LS, PS each end one; CR LF
        // counted twice only loosens the bound). Scalars, not Characters: a CR between two
        // letters is not a Character that isNewline.
        let breaks: Set<Unicode.Scalar> = ["\r", "\n", "\u{85}", "\u{2028}", "\u{2029}"]
        let lines = text.unicodeScalars.filter(breaks.contains).count + 1
        func checkMarks(_ errors: [ConfigError]) {
            precondition(!errors.isEmpty, "a refusal without a reason")
            for error in errors {
                precondition(error.mark.file == file && error.mark.line >= 1 && error.mark.line <= lines + 1
                             && error.mark.column >= 1, "error at \(error.mark): \(error.message)")
                precondition(!error.message.isEmpty)
            }
        }
        let configuration: Configuration
        do { configuration = try Configuration.parse(text, file: file) } catch {
            checkMarks(error.errors)
            return
        }
        let problems = catalog.validate(configuration)
        if !problems.isEmpty { checkMarks(problems) }
    }

    static func safetensors(_ bytes: [UInt8]) {
        guard let file = try? SafeTensorsFile(bytes: Data(bytes), path: "fuzz.safetensors") else { return }
        for (name, entry) in file.entries {
            precondition(entry.shape.allSatisfy { $0 >= 0 }, "tensor \(name) has shape \(entry.shape)")
            guard let values = try? file.floats(name) else { preconditionFailure("tensor \(name) listed but unreadable") }
            precondition(values.count == entry.shape.reduce(1, *))
        }
        _ = try? GeneratorModel(file: file)
    }

    /// Input: the edge suffix, the colour suffix, then file names, one per line.
    static func names(_ bytes: [UInt8], scratch: String) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3 else { return }
        for line in lines.dropFirst(2) { freeName(String(line), in: scratch) }
        let naming = PairNaming(edgeSuffix: String(lines[0]), colorSuffix: String(lines[1]))
        guard naming.problem == nil else { return }  // the configuration refuses these
        for line in lines.dropFirst(2) {
            let name = String(line)
            guard let half = naming.half(name) else { continue }
            precondition(!half.stem.isEmpty && !half.partner.unicodeScalars.contains("/"), "\(name): \(half)")
            // The partner is the other half of the same job, and its partner is this file.
            guard let other = naming.half(half.partner) else { preconditionFailure("\(name): partner \(half.partner) is no half") }
            precondition(other.stem == half.stem && other.slot != half.slot && other.partner == FileIO.split(name).name,
                         "\(name) -> \(half.partner) -> \(other.partner)")
        }
    }

    /// A file name as readdir gives it (no "/", not "." or ".."), moved into `folder`: the
    /// free name keeps it when free, never names a file there, keeps the extension, and
    /// `BASE.N.EXT` counts up from 1.
    static func freeName(_ name: String, in folder: String) {
        guard !name.isEmpty, name != ".", name != "..", !name.unicodeScalars.contains("/"), !name.unicodeScalars.contains("\0"),
              name.utf8.count <= 200 else { return }
        _ = InboxNames.isIgnored(name)
        let path = InboxNames.unused(folder, name)
        let (parent, file) = FileIO.split(path)
        precondition(parent == folder && !FileIO.lexists(path), "\(name) -> \(path)")
        // By scalar, as the names are built (a Character may span the joint, e.g. after U+0602).
        func starts(_ text: String, _ prefix: String, ends suffix: String) -> Bool {
            FileIO.dropping(suffix: suffix, from: text).map { $0.unicodeScalars.starts(with: prefix.unicodeScalars) } ?? false
        }
        let base = FileIO.baseName(name), ext = FileIO.fileExtension(name)
        precondition(starts(file, base, ends: ext), "\(name) -> \(file)")
        precondition(FuzzContext.taken.contains(name) ? file != name : file == name, "\(name) -> \(file)")
        let report = FileIO.split(InboxNames.unusedReport(folder, base)).name
        precondition(starts(report, base, ends: ".error.txt") && !FileIO.lexists(folder + "/" + report))
    }
}
