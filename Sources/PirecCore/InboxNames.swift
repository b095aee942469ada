// InboxNames: the inbox's rules for file names, apart from the folders they apply to (so
// the names fuzz target reaches them): names never taken as inputs, and the free name for
// a file moved into a folder that may already hold one of that name.

public enum InboxNames {
    /// Names never taken as inputs: dot files and the usual temporary names of writers.
    public static func isIgnored(_ name: String) -> Bool {
        name.hasPrefix(".") || name.hasSuffix(".part") || name.hasSuffix(".tmp") || name.hasSuffix("~")
    }

    /// `folder/name`, or `folder/BASE.N.EXT` when that exists: earlier files are never replaced.
    public static func unused(_ folder: String, _ name: String) -> String {
        let base = FileIO.baseName(name)
        return unused(folder, base: base, suffix: FileIO.fileExtension(name))
    }

    /// `folder/BASE.error.txt`, or `folder/BASE.N.error.txt` when that exists.
    public static func unusedReport(_ folder: String, _ base: String) -> String { unused(folder, base: base, suffix: ".error.txt") }

    private static func unused(_ folder: String, base: String, suffix: String) -> String {
        var candidate = folder + "/" + base + suffix
        var n = 1
        while FileIO.lexists(candidate) {
            candidate = folder + "/" + base + ".\(n)" + suffix
            n += 1
        }
        return candidate
    }
}
