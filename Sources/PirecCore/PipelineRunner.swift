// PipelineRunner: turns input files into jobs (single files, or NAME_e/NAME_c pairs), runs
// a job's chain on a worker, and writes its outputs atomically. An input is never
// overwritten, and a failed job leaves no output file behind.
import Glibc

/// One unit of work: the files that fill the frame's input slots, and the output base name.
public struct Job: Sendable, Equatable {
    /// Output base name, without extension.
    public var name: String
    /// Slot to input path.
    public var inputs: [Slot: String]

    public init(name: String, inputs: [Slot: String]) {
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
            let jobs = files.map { Job(name: FileIO.baseName($0), inputs: [.source: $0]) }
            return (jobs, errors)
        case let .pair(naming):
            // Pairs by folder and stem, in the order their first half came.
            var pairs: [String: (stem: String, files: [Slot: String], partner: String)] = [:]
            var order: [String] = []
            for file in files {
                guard let half = naming.half(file) else {
                    errors.append(JobError(input: file, message: naming.notAPair))
                    continue
                }
                let key = FileIO.split(file).folder + "/" + half.stem
                if pairs[key] == nil {
                    order.append(key)
                    pairs[key] = (half.stem, [:], half.partner)
                }
                pairs[key]!.files[half.slot] = file
            }
            var jobs: [Job] = []
            for key in order {
                let pair = pairs[key]!
                if pair.files.count == 2 {
                    jobs.append(Job(name: pair.stem, inputs: pair.files))
                } else if let file = pair.files.values.first {
                    errors.append(JobError(input: file, message: "half a pair: \(pair.partner) is missing"))
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
                if slot == .edge { image = try convert(image, 1, path) }
                if slot == .color { image = try convert(image, 3, path) }
                frame[slot] = image
                if slot == .source { frame[.image] = image }
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
                    cancellation: CancellationFlag = CancellationFlag(),
                    entering: (Int, String) -> Void = { _, _ in }) throws(JobError) -> JobResult {
        let frame = try loadFrame(for: job, cancellation: cancellation)
        let timings: [StepTiming]
        do { timings = try worker.run(frame, entering: entering) } catch {
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
                && !(slot == .image && job.inputs[.source] != nil && frame[slot] === frame[.source]) {
                targets.append(("\(outputFolder)/\(job.name).\(slot).png", frame[slot]!))
            }
        }
        do { try FileIO.makeFolders(outputFolder) } catch {
            throw JobError(input: job.inputList, step: JobError.writingStep, message: error.description,
                           cause: .output(folder: outputFolder))
        }
        for (path, _) in targets {
            for input in job.inputs.values where PipelineRunner.sameFile(path, input) {
                throw JobError(input: input, message: "refusing to overwrite the input with the output \(path)")
            }
        }
        var written: [String] = []
        for (path, image) in targets {
            do { try codec.write(image, to: path) } catch {
                throw JobError(input: job.inputList, step: JobError.writingStep, message: error.description,
                               cause: .output(folder: outputFolder))
            }
            written.append(path)
        }
        return JobResult(job: job, outputs: written, timings: timings)
    }

    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}
