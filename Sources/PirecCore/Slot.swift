// Slot: the name of a frame slot, where a chain's steps find and leave images. Plugins
// name slots as strings across the C ABI; inside the host a slot is this type, and the
// slots the host itself fills are named once, here.

public struct Slot: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ name: String) { rawValue = name }
    public init(stringLiteral name: String) { rawValue = name }

    public var description: String { rawValue }

    public static func < (a: Slot, b: Slot) -> Bool { a.rawValue < b.rawValue }

    /// A single input file, as read.
    public static let source = Slot("source")
    /// The picture the chain works on; a single input starts in it too.
    public static let image = Slot("image")
    /// A pair's sketch (1 channel).
    public static let edge = Slot("edge")
    /// A pair's colour domain (3 channels).
    public static let color = Slot("color")
}
