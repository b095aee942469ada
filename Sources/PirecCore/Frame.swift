// Frame: the named image slots of one job, and the host side of the ABI's frame
// functions. Images a plugin allocates belong to the frame; those it does not hand to a
// slot are dropped when its step ends.
import CPirecPlugin
import Synchronization

/// Set once to ask running plugins to stop; shared by the jobs it governs.
public final class CancellationFlag: Sendable {
    private let state = Atomic<Bool>(false)

    public init() {}

    public func cancel() { state.store(true, ordering: .relaxed) }

    public var isCancelled: Bool { state.load(ordering: .relaxed) }
}

public final class Frame {
    public private(set) var slots: [Slot: Image] = [:]
    public let cancellation: CancellationFlag
    /// Images from `image_new` during the current step, by their C header.
    private var allocated: [UnsafeMutablePointer<pirec_image>: Image] = [:]
    /// Slots written during the current step.
    private(set) var written: [Slot] = []

    public init(cancellation: CancellationFlag = CancellationFlag()) {
        self.cancellation = cancellation
    }

    public subscript(slot: Slot) -> Image? {
        get { slots[slot] }
        set { slots[slot] = newValue }
    }

    func beginStep() {
        allocated.removeAll()
        written.removeAll()
    }

    func endStep() { allocated.removeAll() }

    fileprivate func allocate(width: UInt32, height: UInt32, channels: UInt32) -> UnsafeMutablePointer<pirec_image>? {
        // The ABI promises uninitialised samples; skipping the zero fill matters at megapixels.
        guard let image = try? Image(width: Int(width), height: Int(height), channels: Int(channels), zeroed: false) else {
            return nil
        }
        allocated[image.header] = image
        return image.header
    }

    fileprivate func set(_ name: Slot, _ header: UnsafeMutablePointer<pirec_image>) -> Bool {
        guard let image = allocated[header] else { return false }
        slots[name] = image
        if !written.contains(name) { written.append(name) }
        return true
    }

    /// The opaque handle the C side sees; valid while the frame lives.
    var handle: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    fileprivate static func from(_ handle: OpaquePointer?) -> Frame? {
        guard let handle else { return nil }
        return Unmanaged<Frame>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    // The C functions of `pirec_host` that act on frames.
    static let cGet: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> UnsafePointer<pirec_image>? = { frame, name in
        guard let frame = Frame.from(frame), let name else { return nil }
        return frame.slots[Slot(String(cString: name))].map { UnsafePointer($0.header) }
    }
    static let cNew: @convention(c) (OpaquePointer?, UInt32, UInt32, UInt32) -> UnsafeMutablePointer<pirec_image>? = {
        frame, width, height, channels in
        Frame.from(frame)?.allocate(width: width, height: height, channels: channels)
    }
    static let cSet: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<pirec_image>?) -> Int32 = {
        frame, name, image in
        guard let frame = Frame.from(frame), let name, let image, frame.set(Slot(String(cString: name)), image) else {
            return Int32(PIREC_ERROR)
        }
        return Int32(PIREC_OK)
    }
    static let cCancelled: @convention(c) (OpaquePointer?) -> Int32 = { frame in
        (Frame.from(frame)?.cancellation.isCancelled ?? true) ? 1 : 0
    }
}
