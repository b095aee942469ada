// PairNaming: how the two files of one job are named in a pipeline with `inputs: pair`:
// NAME<edge suffix>.png is the sketch, NAME<color suffix>.png the colour domain (`_e` and
// `_c` unless `pair_suffixes` says otherwise). The one parser of pair names, shared by the
// one-shot runner and the daemon's inbox.

public struct PairNaming: Sendable, Equatable {
    public var edgeSuffix: String
    public var colorSuffix: String

    public init(edgeSuffix: String = "_e", colorSuffix: String = "_c") {
        self.edgeSuffix = edgeSuffix
        self.colorSuffix = colorSuffix
    }

    /// Why these suffixes cannot name pairs, or nil: each file must be one half only and its
    /// partner's name must lead back to it, so the suffixes differ, are not empty, neither
    /// ends with the other, and hold no "/" (a folder) or "." (the extension's separator).
    public var problem: String? {
        let suffixes = [edgeSuffix, colorSuffix]
        if suffixes.contains(where: \.isEmpty) { return "edge and color suffixes must not be empty" }
        if suffixes.contains(where: { $0.unicodeScalars.contains("/") || $0.unicodeScalars.contains(".") }) {
            return "edge and color suffixes must not contain \"/\" or \".\""
        }
        if FileIO.dropping(suffix: colorSuffix, from: edgeSuffix) != nil
            || FileIO.dropping(suffix: edgeSuffix, from: colorSuffix) != nil {
            return "edge and color suffixes must differ and neither may end with the other "
                + "(\"\(edgeSuffix)\", \"\(colorSuffix)\")"
        }
        return nil
    }

    /// One file of a pair, read from its name.
    public struct Half: Sendable, Equatable {
        /// The job's name: the file's base name without its suffix.
        public var stem: String
        /// `.edge` or `.color`.
        public var slot: Slot
        /// The other half's file name (same extension).
        public var partner: String
    }

    /// The half that `name` (a file name or path; the folder stays out of it) is, or nil
    /// when its base name ends in neither suffix or is the suffix alone. The edge suffix is
    /// tried first.
    public func half(_ name: String) -> Half? {
        let file = FileIO.split(name).name
        let base = FileIO.baseName(file), ext = FileIO.fileExtension(file)
        // By scalar, as FileIO cuts names: a last stem letter such as U+0602 (which joins
        // the next one into a Character) must not hide the suffix.
        let slot: Slot, stem: String
        if let s = FileIO.dropping(suffix: edgeSuffix, from: base) {
            (slot, stem) = (.edge, s)
        } else if let s = FileIO.dropping(suffix: colorSuffix, from: base) {
            (slot, stem) = (.color, s)
        } else {
            return nil
        }
        // "_e.png" alone names no job (its outputs would be hidden dot files).
        guard !stem.isEmpty else { return nil }
        return Half(stem: stem, slot: slot, partner: stem + (slot == .edge ? colorSuffix : edgeSuffix) + ext)
    }

    /// Why a file that is neither half is refused.
    public var notAPair: String {
        "not part of a pair: expected NAME\(edgeSuffix).png (the sketch) and NAME\(colorSuffix).png (the colour domain)"
    }
}
