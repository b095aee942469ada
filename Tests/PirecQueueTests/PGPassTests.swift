// The password file as libpq reads it: the first line whose host, port, database and user
// match (`*` for any), `\:` and `\\` escaped, and the file ignored unless only its owner may
// read it.
import Foundation
import PirecCore
@testable import PirecQueue
import PirecTestKit
import Testing

@Suite struct PGPassTests {
    @Test func theFirstMatchingLineGivesThePassword() throws {
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/pgpass"
        try TestPaths.write("""
            # comment
            db.example:5432:other:pirec:wrong
            db.example:*:pirec:pirec:s\\:cr\\\\et
            *:*:*:*:fallback

            """, to: path)
        chmod(path, 0o600)
        let settings = QueueSettings(address: .tcp(host: "db.example", port: 6543), user: "pirec", database: "pirec", host: "h")
        #expect(PGPass.password(for: settings, environment: ["PGPASSFILE": path]) == "s:cr\\et")
        var socket = settings
        socket.address = .socket(folder: "/run/postgresql", port: 5432)
        #expect(PGPass.password(for: socket, environment: ["PGPASSFILE": path]) == "fallback", "a socket is host localhost")
        #expect(PGPass.password(for: settings, environment: ["HOME": folder]) == nil, "~/.pgpass is the default name")
        chmod(path, 0o644)
        #expect(PGPass.password(for: settings, environment: ["PGPASSFILE": path]) == nil, "readable by others: ignored")
    }
}
