// PluginHarness: runs one built plugin through the real host on a frame, as a chain step does.
import Logging
import PirecCore

public enum PluginHarness {
    /// Loads plugin `id` from the build folder, creates a state from `json`, and runs it on
    /// a frame holding `slots`. Returns the frame after the step.
    public static func run(_ id: String, _ json: String = "{}", _ slots: [Slot: Image], cancelled: Bool = false)
        throws -> Frame
    {
        let instance = try instance(id, json)
        let frame = Frame()
        if cancelled { frame.cancellation.cancel() }
        for (slot, image) in slots { frame[slot] = image }
        try instance.process(frame)
        return frame
    }

    public static func instance(_ id: String, _ json: String = "{}") throws -> PluginInstance {
        let library = try PluginLibrary.load(from: TestPaths.plugin(id))
        return try PluginInstance(library: library, configJSON: json,
                                  logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    /// An image whose samples come from `value(x, y, channel)`.
    public static func image(width: Int, height: Int, channels: Int, _ value: (Int, Int, Int) -> Float) throws -> Image {
        let image = try Image(width: width, height: height, channels: channels)
        for y in 0..<height { for x in 0..<width { for c in 0..<channels { image[x, y, c] = value(x, y, c) } } }
        return image
    }
}
