// FileTrust: plugins are code and model files are code-like data, so, like sshd's
// StrictModes, the host refuses one that others could have replaced: a file, or the folder
// it sits in, that is owned by someone other than root and this process's user, or that is
// group- or world-writable (a world-writable folder with the sticky bit, as /tmp, is
// allowed: others cannot rename over a file there). `insecure_plugins: true` turns the
// check off for development trees.
import Glibc

public enum FileTrust {
    /// Why `path` cannot be trusted, or nil. A path that does not exist is not this check's
    /// business (loading it reports that).
    public static func problem(_ path: String) -> String? {
        var file = stat()
        guard stat(path, &file) == 0 else { return nil }
        if let problem = problem(file, what: "file", path: path, allowSticky: false) { return problem }
        let folder = FileIO.split(path).folder
        var dir = stat()
        guard stat(folder, &dir) == 0 else { return nil }
        return problem(dir, what: "folder", path: folder, allowSticky: true)
    }

    private static func problem(_ info: stat, what: String, path: String, allowSticky: Bool) -> String? {
        let mode = info.st_mode & 0o7777
        let owner = info.st_uid
        if owner != 0 && owner != geteuid() {
            return "refusing a \(what) owned by uid \(owner) (\(path)): only root or this user (uid \(geteuid())) may own "
                + "plugins, models and their folders (insecure_plugins: true allows it)"
        }
        let writable = mode & (S_IWGRP | S_IWOTH)
        if writable != 0 && !(allowSticky && mode & S_ISVTX != 0) {
            let who = mode & S_IWOTH != 0 ? "world" : "group"
            return "refusing a \(who)-writable \(what) (\(path), mode \(String(mode, radix: 8))): plugins, models and "
                + "their folders must be writable only by their owner (insecure_plugins: true allows it)"
        }
        return nil
    }
}
