// PipelineRunner: turns input files into jobs (single files, or NAME_e/NAME_c pairs), runs
// a job's chain on a worker, and writes its outputs atomically. An input is never
// overwritten, and a failed job leaves no output file behind.
import Glibc

/// One unit of work: the files that fill the frame's input slots, and the output base name.
public struct Job: Sendable, Equatable {
    /// Output base name, without extension.
    public var name: String
    /// Slot name to input path.
    public var inputs: [String: String]

    public init(name: String, inputs: [String: String]) {
        self.name = name
        self.inputs = inputs
    }

    /// The input paths, for messages.
    public var inputList: String { inputs.keys.sorted().compactMap { inputs[$0] }.joined(separator: " + ") }
}

/// What a finished job wrote.
public struct JobResult: Sendable {
    public var job: Job
    public var outputs: [String]
    public var timings: [StepTiming]
}

public struct PipelineRunner: Sendable {
    public let pipeline: Pipeline
    public let codec: PNGCodec

    public init(pipeline: Pipeline, codec: PNGCodec) {
        self.pipeline = pipeline
        self.codec = codec
    }

    /// Expands files and folders (their *.png files, dot files skipped) into jobs. Files that
    /// cannot make a job (a half pair, a name without a pair suffix, a missing path) come
    /// back as errors, each naming the file.
    public func jobs(for paths: [String]) -> (jobs: [Job], errors: [JobError]) {
        var files: [String] = []
        var errors: [JobError] = []
        for path in paths {
            if FileIO.isFolder(path) {
                let names = (try? FileIO.list(path)) ?? []
                files += names.filter { !$0.hasPrefix(".") && $0.lowercased().hasSuffix(".png") }
                    .map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
            } else if FileIO.exists(path) {
                files.append(path)
            } else {
                errors.append(JobError(input: path, message: "no such file"))
            }
        }
        switch pipeline.inputs {
        case .single:
            let jobs = files.map { Job(name: PipelineRunner.baseName($0), inputs: ["source": $0]) }
            return (jobs, errors)
        case let .pair(edgeSuffix, colorSuffix):
            var halves: [String: (edge: String?, color: String?)] = [:]
            var order: [String] = []
            for file in files {
                let base = PipelineRunner.baseName(file)
                let folder = FileIO.split(file).folder
                let key: String, isEdge: Bool
                if base.hasSuffix(edgeSuffix) {
                    key = folder + "/" + base.dropLast(edgeSuffix.count); isEdge = true
                } else if base.hasSuffix(colorSuffix) {
                    key = folder + "/" + base.dropLast(colorSuffix.count); isEdge = false
                } else {
                    errors.append(JobError(input: file, message:
                        "not part of a pair: expected NAME\(edgeSuffix).png (sketch) or NAME\(colorSuffix).png (colour)"))
                    continue
                }
                if halves[key] == nil { order.append(key) }
                if isEdge { halves[key, default: (nil, nil)].edge = file } else { halves[key, default: (nil, nil)].color = file }
            }
            var jobs: [Job] = []
            for key in order {
                let half = halves[key]!
                let name = FileIO.split(key).name
                if let edge = half.edge, let color = half.color {
                    jobs.append(Job(name: name, inputs: ["edge": edge, "color": color]))
                } else if let edge = half.edge {
                    errors.append(JobError(input: edge, message: "half a pair: \(name)\(colorSuffix).png is missing"))
                } else if let color = half.color {
                    errors.append(JobError(input: color, message: "half a pair: \(name)\(edgeSuffix).png is missing"))
                }
            }
            return (jobs, errors)
        }
    }

    /// Loads the job's inputs into a frame: `source` and `image` for single inputs; a 1-channel
    /// `edge` and a 3-channel `color` for pairs.
    public func loadFrame(for job: Job, cancellation: CancellationFlag = CancellationFlag()) throws(JobError) -> Frame {
        let frame = Frame(cancellation: cancellation)
        for slot in job.inputs.keys.sorted() {
            let path = job.inputs[slot]!
            do {
                var image = try codec.read(path: path)
                if slot == "edge" { image = try convert(image, 1, path) }
                if slot == "color" { image = try convert(image, 3, path) }
                frame[slot] = image
                if slot == "source" { frame["image"] = image }
            } catch {
                throw JobError(input: error.path, message: error.reason)
            }
        }
        return frame
    }

    private func convert(_ image: Image, _ channels: Int, _ path: String) throws(FileError) -> Image {
        do { return try image.converted(toChannels: channels) } catch { throw FileError(path: path, reason: "\(error)") }
    }

    /// Runs one job and writes `NAME.png` (and `NAME.SLOT.png` for the other slots when the
    /// pipeline keeps intermediates) into `outputFolder`.
    public func run(_ job: Job, worker: ChainWorker, outputFolder: String,
                    cancellation: CancellationFlag = CancellationFlag()) throws(JobError) -> JobResult {
        let frame = try loadFrame(for: job, cancellation: cancellation)
        let timings: [StepTiming]
        do { timings = try worker.run(frame) } catch {
            var failure = error
            failure.input = job.inputList
            throw failure
        }
        guard let result = frame[pipeline.outputSlot] else {
            throw JobError(input: job.inputList, message: "the chain left the output slot \"\(pipeline.outputSlot)\" empty")
        }
        var targets: [(String, Image)] = [("\(outputFolder)/\(job.name).png", result)]
        if pipeline.keepIntermediates {
            // Not the output again under another slot's name (the generator's `stage1` when
            // no refiner follows), nor the input (`image` still holding `source`).
            for slot in frame.slots.keys.sorted() where slot != pipeline.outputSlot && job.inputs[slot] == nil
                && frame[slot] !== result
                && !(slot == "image" && job.inputs["source"] != nil && frame[slot] === frame["source"]) {
                targets.append(("\(outputFolder)/\(job.name).\(slot).png", frame[slot]!))
            }
        }
        do { try FileIO.makeFolders(outputFolder) } catch { throw JobError(input: job.inputList, message: error.description) }
        for (path, _) in targets {
            for input in job.inputs.values where PipelineRunner.sameFile(path, input) {
                throw JobError(input: input, message: "refusing to overwrite the input with the output \(path)")
            }
        }
        var written: [String] = []
        for (path, image) in targets {
            do { try codec.write(image, to: path) } catch {
                throw JobError(input: job.inputList, message: error.description)
            }
            written.append(path)
        }
        return JobResult(job: job, outputs: written, timings: timings)
    }

    /// The file name without its extension (a leading dot is not one).
    public static func baseName(_ path: String) -> String {
        let name = FileIO.split(path).name
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}
