// Canny against scikit-image's feature.canny on the classical fixtures: F1 of edge pixels
// at least 0.97 per image for sigma 1, 2.5 and 3.5 (exact equality is not expected where
// float32 and float64 round differently at a threshold).
import PirecCore
import PirecImaging
import PirecTestKit
import Testing

@Suite struct CannyTests {
    /// Our edges of fixture `name`, 1 on edges.
    static func edges(_ name: String, sigma: Double) throws -> (Plane, Workspace) {
        let image = try Classical.image(name)
        let workspace = Workspace()
        let planes = workspace.planes(4, width: image.width, height: image.height)
        planes[0].fill(gray: Classical.view(image))
        let ok = Canny(sigma: sigma, low: 0.1, high: 0.2).detect(
            planes[0], into: planes[1], scratch: planes[2], magnitude: planes[3], stack: &workspace.stack,
            isCancelled: { false })
        #expect(ok)
        return (planes[1], workspace)
    }

    @Test(arguments: Classical.inputs, ["1", "2.5", "3.5"])
    func matchesScikitImage(name: String, sigma: String) throws {
        let (ours, workspace) = try CannyTests.edges(name, sigma: Double(sigma)!)
        let reference = try PNGCodec().read(path: TestPaths.fixture("classical/\(name).canny.s\(sigma).png"))
        var both = 0, onlyOurs = 0, onlyTheirs = 0
        for y in 0..<reference.height {
            for x in 0..<reference.width {
                let a = ours.row(y)[x] > 0.5, b = reference[x, y, 0] > 0.5
                if a && b { both += 1 } else if a { onlyOurs += 1 } else if b { onlyTheirs += 1 }
            }
        }
        _ = workspace
        let f1 = both + onlyOurs + onlyTheirs == 0 ? 1 : 2 * Double(both) / Double(2 * both + onlyOurs + onlyTheirs)
        #expect(f1 >= 0.97, "\(name) sigma \(sigma): F1 \(f1) (\(both) shared, \(onlyOurs) only ours, \(onlyTheirs) only skimage)")
    }
}
