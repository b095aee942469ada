// Vector: the sample type of the edge algorithms, and unaligned 8-lane loads and stores.
// The compiler does not vectorise loops whose output may alias their input, so the hot
// loops use SIMD8 explicitly.

/// Float64, as scikit-image computes: Canny on flat clip art is full of exact ties in the
/// gradient magnitude, and float32 rounding breaks them differently (skimage itself run in
/// float32 disagrees with its float64 result on 103 of 570 edge pixels of one fixture).
public typealias Sample = Double
typealias Lane8 = SIMD8<Sample>

@inline(__always)
func load8(_ p: UnsafePointer<Sample>) -> Lane8 { UnsafeRawPointer(p).loadUnaligned(as: Lane8.self) }

@inline(__always)
func store8(_ v: Lane8, _ p: UnsafeMutablePointer<Sample>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lane8.self) }
