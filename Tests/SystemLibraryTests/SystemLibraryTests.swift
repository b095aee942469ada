// The system-library targets link and call the real Debian libraries: OpenBLAS, with its
// own thread control, which the generic libblas lacks.
import COpenBLAS
import Foundation
import PirecTestKit
import Testing

@Suite struct SystemLibraryTests {
    @Test func openBLASMultipliesMatrices() {
        openblas_set_num_threads(1)
        let a: [Float] = [1, 2, 3, 4, 5, 6]  // 2x3
        let b: [Float] = [7, 8, 9, 10, 11, 12]  // 3x2
        var c = [Float](repeating: 0, count: 4)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 3, 1, a, 3, b, 2, 0, &c, 2)
        #expect(c == [58, 64, 139, 154])
        #expect(String(cString: openblas_get_config()).contains("OpenBLAS"))
    }
}
