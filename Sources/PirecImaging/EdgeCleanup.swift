// EdgeCleanup: what users tune for sparser or cleaner edges: dropping short pieces
// (8-connected components under `min_length` pixels) and thinning strokes to one pixel
// (Zhang-Suen 1984).

public enum EdgeCleanup {
    /// Clears every 8-connected piece of edge pixels (mask 1) smaller than `minimum`.
    public static func dropShortPieces(_ edges: UnsafeMutablePointer<UInt8>, width w: Int, height h: Int,
                                       minimum: Int) {
        guard minimum > 1 else { return }
        var seen = [Bool](repeating: false, count: w * h)
        var piece: [Int] = []
        var stack: [Int] = []
        for seed in 0..<(w * h) where edges[seed] != 0 && !seen[seed] {
            piece.removeAll(keepingCapacity: true)
            seen[seed] = true
            stack.append(seed)
            while let i = stack.popLast() {
                piece.append(i)
                let y = i / w, x = i - y * w
                for ny in max(y - 1, 0)...min(y + 1, h - 1) {
                    for nx in max(x - 1, 0)...min(x + 1, w - 1) {
                        let j = ny * w + nx
                        if !seen[j] && edges[j] != 0 {
                            seen[j] = true
                            stack.append(j)
                        }
                    }
                }
            }
            if piece.count < minimum { for i in piece { edges[i] = 0 } }
        }
    }

    /// Zhang-Suen thinning of a binary mask (1 = stroke), to strokes one pixel wide.
    public static func thin(_ mask: UnsafeMutablePointer<UInt8>, width w: Int, height h: Int) {
        guard w >= 3, h >= 3 else { return }
        var on = (0..<(w * h)).map { mask[$0] != 0 }
        var changed = true
        var remove: [Int] = []
        while changed {
            changed = false
            for pass in 0..<2 {
                remove.removeAll(keepingCapacity: true)
                for y in 1..<(h - 1) {
                    for x in 1..<(w - 1) where on[y * w + x] {
                        // Neighbours clockwise from north: p2 ... p9.
                        let p = [on[(y - 1) * w + x], on[(y - 1) * w + x + 1], on[y * w + x + 1], on[(y + 1) * w + x + 1],
                                 on[(y + 1) * w + x], on[(y + 1) * w + x - 1], on[y * w + x - 1], on[(y - 1) * w + x - 1]]
                        let count = p.filter { $0 }.count
                        guard count >= 2 && count <= 6 else { continue }
                        var transitions = 0
                        for k in 0..<8 where !p[k] && p[(k + 1) % 8] { transitions += 1 }
                        guard transitions == 1 else { continue }
                        let (p2, p4, p6, p8) = (p[0], p[2], p[4], p[6])
                        if pass == 0 ? (!(p2 && p4 && p6) && !(p4 && p6 && p8)) : (!(p2 && p4 && p8) && !(p2 && p6 && p8)) {
                            remove.append(y * w + x)
                        }
                    }
                }
                for i in remove { on[i] = false }
                if !remove.isEmpty { changed = true }
            }
        }
        for i in 0..<(w * h) { mask[i] = on[i] ? 1 : 0 }
    }
}
