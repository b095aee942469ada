// Path handling by Unicode scalar: a name that starts with a combining mark joins the "/"
// before it into one Character (the names fuzz target's find), and paths must still split there.
import PirecCore
import Testing

@Suite struct FileIOTests {
    @Test func pathsSplitAtEverySlashWhateverFollowsIt() {
        let name = "\u{35A}tch.png", path = "/tmp/inbox/" + name
        #expect(FileIO.split(path) == (folder: "/tmp/inbox", name: name))
        #expect(FileIO.baseName(path) == "\u{35A}tch" && FileIO.fileExtension(path) == ".png")
        #expect(FileIO.baseName("a.\u{301}png") == "a" && FileIO.fileExtension("a.\u{301}png") == ".\u{301}png")
        #expect(FileIO.isAbsolute("/\u{35A}x") && !FileIO.isAbsolute("\u{35A}/x"))
        #expect(FileIO.resolve("../\u{35A}b/./c", against: "/r/a") == "/r/\u{35A}b/c")
        #expect(InboxNames.unused("/nonexistent", name) == "/nonexistent/" + name)
    }
}
