// The histogram median against cv2.medianBlur: byte for byte, sizes 3, 7 and 25, every
// classical fixture (1x1 included), borders replicated.
import PirecCore
import PirecImaging
import PirecTestKit
import Testing

@Suite struct MedianFilterTests {
    @Test(arguments: Classical.inputs, [3, 7, 25])
    func matchesOpenCV(name: String, size: Int) throws {
        let image = try Classical.image(name)
        let reference = Classical.bytePlanes(try PNGCodec().read(path: TestPaths.fixture("classical/\(name).median\(size).png")))
        var planes = Classical.bytePlanes(image)
        for c in 0..<3 {
            MedianFilter(radius: size / 2).apply(&planes[c], width: image.width, height: image.height)
            let differing = zip(planes[c], reference[c]).filter { $0 != $1 }.count
            #expect(differing == 0, "\(name) median \(size) channel \(c): \(differing) pixels differ from cv2.medianBlur")
        }
    }

    @Test func matchesASortedWindowOnRandomData() {
        // Independent of the fixtures: a brute-force median on an odd-sized random plane.
        var rng = SystemRandomNumberGenerator()
        let w = 37, h = 23
        let source = (0..<(w * h)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for radius in [1, 2, 5, 12] {
            var plane = source
            MedianFilter(radius: radius).apply(&plane, width: w, height: h)
            for y in 0..<h {
                for x in 0..<w {
                    var window: [UInt8] = []
                    for dy in -radius...radius {
                        for dx in -radius...radius {
                            window.append(source[min(max(y + dy, 0), h - 1) * w + min(max(x + dx, 0), w - 1)])
                        }
                    }
                    window.sort()
                    #expect(plane[y * w + x] == window[window.count / 2])
                }
            }
        }
    }
}
