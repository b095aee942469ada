// PluginFrame and image views: the plugin side of the ABI's host functions. Views read and
// write through the host's stride; the host owns every image.
import CPirecPlugin
@_exported import PirecImageView

extension ImageView {
    init(_ image: UnsafePointer<pirec_image>) {
        let i = image.pointee
        self.init(width: Int(i.width), height: Int(i.height), channels: Int(i.channels),
                  rowStride: Int(i.stride_bytes) / MemoryLayout<Float>.stride, samples: UnsafePointer(i.data))
    }
}

extension MutableImageView {
    init(_ image: UnsafeMutablePointer<pirec_image>) {
        let i = image.pointee
        self.init(width: Int(i.width), height: Int(i.height), channels: Int(i.channels),
                  rowStride: Int(i.stride_bytes) / MemoryLayout<Float>.stride, samples: i.data, handle: UnsafeMutableRawPointer(image))
    }
}

/// The host's functions, as handed to `create`.
public struct PluginHost: @unchecked Sendable {  // the host's table: immutable, valid until destroy, thread-safe log
    let table: UnsafePointer<pirec_host>

    public func log(_ level: Int32, _ message: String) {
        table.pointee.log?(table.pointee.context, level, message)
    }

    /// The configuration's model folder (ABI 1.1), or nil.
    public var modelDirectory: String? {
        let offset = MemoryLayout<pirec_host>.offset(of: \.model_dir)!
        guard Int(table.pointee.struct_size) >= offset + MemoryLayout<UnsafePointer<CChar>?>.size else { return nil }
        return table.pointee.model_dir.map { String(cString: $0) }
    }
}

/// One frame during one `process` call.
public struct PluginFrame {
    let host: PluginHost
    let handle: OpaquePointer

    /// The image in `slot`, or nil when the slot is empty.
    public func image(_ slot: String) -> ImageView? {
        host.table.pointee.frame_get(handle, slot).map(ImageView.init)
    }

    /// The image in `slot`, or a failure naming the empty slot.
    public func require(_ slot: String) throws(PluginFailure) -> ImageView {
        guard let image = image(slot) else { throw PluginFailure("input slot \"\(slot)\" is empty") }
        return image
    }

    /// A new host-owned image (samples uninitialised).
    public func newImage(width: Int, height: Int, channels: Int) throws(PluginFailure) -> MutableImageView {
        guard width > 0, height > 0, width <= UInt32.max, height <= UInt32.max,
              let image = host.table.pointee.image_new(handle, UInt32(width), UInt32(height), UInt32(channels)) else {
            throw PluginFailure("cannot allocate a \(width)x\(height) image with \(channels) channels")
        }
        return MutableImageView(image)
    }

    /// Hands `image` (from `newImage`) to slot `slot`.
    public func set(_ slot: String, _ image: MutableImageView) throws(PluginFailure) {
        guard let header = image.handle?.assumingMemoryBound(to: pirec_image.self),
              host.table.pointee.frame_set(handle, slot, header) == PIREC_OK else {
            throw PluginFailure("the host refused the image for slot \"\(slot)\"")
        }
    }

    public var isCancelled: Bool { host.table.pointee.is_cancelled(handle) != 0 }
}
