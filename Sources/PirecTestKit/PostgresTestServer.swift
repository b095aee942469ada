// PostgresTestServer: a throw-away PostgreSQL server from Debian's `postgresql` package for
// one test: initdb into a temporary folder, listening on a unix socket there (and, when
// asked, on test-network addresses), trust authentication for its one role `postgres`. Run as root (as CI is), the server runs as
// the `postgres` system user, since PostgreSQL refuses to run as root.
import Foundation
import Glibc

public final class PostgresTestServer: Sendable {
    public let folder: String
    public let port: Int
    private let bin: String
    private var data: String { folder + "/data" }

    /// The socket's path, for a unix-socket connection.
    public var socketPath: String { folder + "/.s.PGSQL.\(port)" }
    public let user = "postgres"
    public let database = "postgres"

    /// Addresses it also listens on over TCP (port 5432; trust for 10.0.0.0/8, the test
    /// networks); none: the socket only.
    public let listen: [String]

    public init(listen: [String] = []) throws {
        self.listen = listen
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted()
        guard let version = versions.last, FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(version)/bin/initdb")
        else {
            throw TestServerError("no PostgreSQL server in /usr/lib/postgresql: apt-get install postgresql (make deps does)")
        }
        bin = "/usr/lib/postgresql/\(version)/bin"
        folder = TestPaths.temporaryFolder()
        port = 5432  // names the socket file only: no TCP, and the folder is this server's own
        if getuid() == 0 {
            chmod(folder, 0o755)
            guard try TestProcess.run("/bin/chown", ["postgres:postgres", folder]).status == 0 else {
                throw TestServerError("cannot give \(folder) to the postgres user")
            }
        }
        try run("initdb", ["-D", data, "-U", user, "--auth=trust", "--no-sync", "-E", "UTF8"])
        if !listen.isEmpty {
            let hba = try String(contentsOfFile: data + "/pg_hba.conf", encoding: .utf8)
            try (hba + "host all all 10.0.0.0/8 trust\n").write(toFile: data + "/pg_hba.conf", atomically: false, encoding: .utf8)
        }
        try start()
    }

    deinit {
        try? stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    public func start() throws {
        try run("pg_ctl", ["-D", data, "-l", folder + "/server.log", "-w", "-o",
                           "-k \(folder) -p \(port) -c listen_addresses='\(listen.joined(separator: ","))' -c fsync=off", "start"])
    }

    /// Stops it now (`immediate`: as a crash would).
    public func stop(immediate: Bool = false) throws {
        try run("pg_ctl", ["-D", data, "-w", "-m", immediate ? "immediate" : "fast", "stop"])
    }

    public var log: String { (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? "" }

    /// Runs a server tool with its output in a file, waiting with waitpid. Not Foundation's
    /// Process: the server that `pg_ctl start` leaves running inherits the tool's descriptors
    /// (it would hold a pipe open forever), and Process did not see runuser exit here.
    private func run(_ tool: String, _ arguments: [String]) throws {
        let output = folder + "/\(tool).out"
        let argv = (getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", bin + "/" + tool] : [bin + "/" + tool])
            + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        guard spawned == 0 else { throw TestServerError("cannot run \(argv[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw TestServerError("\(tool) failed (wait status \(status)): \(text)\(log)")
        }
    }
}

public struct TestServerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
