// What users do with the inbox: drop files every way there is, good and bad, and find each
// one processed or refused with a reason, never lost.
import Foundation
import PirecCore
import PirecDaemon
import PirecTestKit
import Testing

let upscaleConfig = """
    job_log: ROOT/jobs.jsonl
    model_dir: REPO/models
    workers: 2
    pipelines:
      - name: up
        watch: ROOT/inbox
        output: ROOT/outbox
        failed: ROOT/failed
        archive: ROOT/archive
        recursive: true
        chain:
          - plugin: upscaler
            with: { scale: 2 }
      - name: pairs
        watch: ROOT/pairs
        output: ROOT/pairs-out
        failed: ROOT/pairs-failed
        inputs: pair
        pair_timeout: 2
        keep_inputs: false
        chain:
          - plugin: edge-extractor
            with: { method: normalize }
          - plugin: generator
            with: { model: emoji/generator.safetensors }

    """

@Suite(.serialized) struct DropTests {
    @Test func everyKindOfDropIsProcessedOrRefusedWithAReason() throws {
        let d = try DaemonHarness(config: upscaleConfig)
        #expect(try d.startAndWait(), "\(d.log)")
        let inbox = d.root + "/inbox"
        let png = try DaemonHarness.png()
        // cp: create, write, close in the folder.
        DaemonHarness.put(png, inbox + "/copied.png")
        // mv on the same filesystem: only IN_MOVED_TO.
        DaemonHarness.put(png, d.root + "/moved.png")
        #expect(rename(d.root + "/moved.png", inbox + "/moved.png") == 0)
        // mv from another filesystem (/dev/shm is a tmpfs): a copy, then CLOSE_WRITE.
        let shm = "/dev/shm/pirecd-test-\(getpid()).png"
        DaemonHarness.put(png, shm)
        let mv = try TestProcess.run("/bin/mv", [shm, inbox + "/crossfs.png"])
        #expect(mv.status == 0, "\(mv.stderr)")
        // Names with spaces and Unicode, in a subfolder created after the start.
        try FileManager.default.createDirectory(atPath: inbox + "/sub dir/ünï", withIntermediateDirectories: true)
        usleep(200_000)
        DaemonHarness.put(png, inbox + "/sub dir/ünï/pic ✓ 1.png")
        // Bad input: corrupt, empty, a symbolic link pointing outside the folder.
        DaemonHarness.put(Array("not a png at all".utf8), inbox + "/corrupt.png")
        DaemonHarness.put([], inbox + "/empty.png")
        #expect(symlink("/etc/passwd", inbox + "/link.png") == 0)
        // Temporary and dot names are not inputs.
        DaemonHarness.put(png, inbox + "/.hidden.png")
        DaemonHarness.put(png, inbox + "/download.part")
        DaemonHarness.put(png, inbox + "/editor.png~")

        let expected = ["copied.png", "moved.png", "crossfs.png", "sub dir/ünï/pic ✓ 1.png"]
        // The job log line is a job's last write (after its sidecar and the archive move).
        #expect(d.waitUntil(timeout: 20) { d.jobLog().count == 7 },
                "\(d.files("outbox")) \(d.files("failed"))\n\(d.log)")
        for name in expected {
            let out = try PNGCodec().read(path: d.root + "/outbox/" + name)
            #expect(out.width == 32 && out.height == 24, "\(name)")
            let base = String(name.dropLast(4))
            let sidecar = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: d.root + "/outbox/" + base + ".json"))) as? [String: Any]
            #expect(sidecar?["pipeline"] as? String == "up")
            let chain = sidecar?["chain"] as? [[String: Any]]
            #expect(chain?.first?["plugin"] as? String == "upscaler")
            #expect(chain?.first?["milliseconds"] is Double)
            #expect((sidecar?["inputs"] as? [String: String])?["source"] == inbox + "/" + name)
            #expect(FileManager.default.fileExists(atPath: d.root + "/archive/" + name), "\(name) archived")
        }
        #expect(d.text("failed/corrupt.error.txt").contains("not a PNG file"))
        #expect(d.text("failed/empty.error.txt").contains("empty file"))
        #expect(d.text("failed/link.error.txt").contains("symbolic link"))
        #expect(FileIO.kind(d.root + "/failed/link.png") == S_IFLNK, "the link itself moved, not its target")
        for ignored in [".hidden.png", "download.part", "editor.png~"] {
            #expect(FileManager.default.fileExists(atPath: inbox + "/" + ignored), "\(ignored) left alone")
        }
        let log = d.jobLog()
        #expect(log.filter { $0["status"] as? String == "done" }.count == 4)
        #expect(log.filter { $0["status"] as? String == "failed" }.count == 3)
        // A failed job's line says where its input went, as a done job's names the archive.
        for line in log where line["status"] as? String == "failed" {
            let went = (line["archived_as"] as? [String: String])?.values.first ?? ""
            #expect(went.hasPrefix(d.root + "/failed/") && FileIO.lexists(went), "\(line)")
        }
        #expect(d.files("inbox/.processing").isEmpty)
        #expect(d.stop() == 0)
        #expect(d.log.contains("<3>job failed") && d.log.contains("<6>job done") && d.log.contains("<4>input refused"))
    }

    @Test func aSlowWriterIsTakenOnlyWhenItCloses() throws {
        let d = try DaemonHarness(config: upscaleConfig)
        #expect(try d.startAndWait(), "\(d.log)")
        let png = try DaemonHarness.png(width: 40, height: 30)
        let path = d.root + "/inbox/slow.png"
        let fd = open(path, O_WRONLY | O_CREAT, 0o644)
        _ = png.withUnsafeBytes { write(fd, $0.baseAddress, 30) }
        usleep(800_000)
        #expect(d.files("outbox").isEmpty && d.files("failed").isEmpty, "nothing taken while open")
        _ = png.withUnsafeBytes { write(fd, $0.baseAddress! + 30, png.count - 30) }
        close(fd)
        #expect(d.waitUntil(timeout: 10) { d.files("outbox").contains("slow.png") }, "\(d.log)")
        #expect(d.files("failed").isEmpty)
        #expect(d.stop() == 0)
    }

    @Test func pairsMatchAndHalfPairsTimeOut() throws {
        let d = try DaemonHarness(config: upscaleConfig)
        #expect(try d.startAndWait(), "\(d.log)")
        let sketch = try DaemonHarness.png(width: 20, height: 20, seed: 1), colour = try DaemonHarness.png(width: 20, height: 20, seed: 2)
        DaemonHarness.put(sketch, d.root + "/pairs/cat_e.png")
        usleep(300_000)
        #expect(d.files("pairs-out").isEmpty, "waits for the colour half")
        DaemonHarness.put(colour, d.root + "/pairs/cat_c.png")
        DaemonHarness.put(sketch, d.root + "/pairs/lonely_e.png")
        DaemonHarness.put(colour, d.root + "/pairs/nosuffix.png")
        #expect(d.waitUntil(timeout: 15) { d.jobLog().count == 3 }, "\(d.files("pairs-out")) \(d.files("pairs-failed"))\n\(d.log)")
        #expect(d.text("pairs-failed/lonely_e.error.txt").contains("lonely_c.png did not arrive within 2 s"))
        #expect(d.text("pairs-failed/nosuffix.error.txt").contains("not part of a pair"))
        #expect(!FileManager.default.fileExists(atPath: d.root + "/pairs/cat_e.png"), "keep_inputs: false deletes")
        #expect(d.files("pairs").filter { !$0.hasPrefix(".") }.isEmpty)
        #expect(d.stop() == 0)
    }

    @Test func filesDroppedWhileDownAreProcessedAtStart() throws {
        let d = try DaemonHarness(config: upscaleConfig)
        try FileManager.default.createDirectory(atPath: d.root + "/inbox/a/b", withIntermediateDirectories: true)
        let png = try DaemonHarness.png()
        for i in 0..<5 { DaemonHarness.put(png, d.root + "/inbox/early\(i).png") }
        DaemonHarness.put(png, d.root + "/inbox/a/b/deep.png")
        #expect(try d.startAndWait(), "\(d.log)")
        #expect(d.waitUntil(timeout: 15) { d.files("outbox").filter { $0.hasSuffix(".png") }.count == 6 },
                "\(d.files("outbox"))\n\(d.log)")
        #expect(d.files("outbox").contains("a/b/deep.png"))
        #expect(d.stop() == 0)
    }
}
