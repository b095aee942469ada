// TestNetwork: network namespaces joined to this one by veth pairs, so that processes of a
// test (pirecd hosts) reach a server (PostgreSQL) across a real network link instead of a
// local socket. Needs root and iproute2 (`ip`); removed again when released.
import Foundation

public final class TestNetwork {
    /// One namespace: the command prefix that runs a program in it, and the addresses of
    /// the link's two ends.
    public struct Host: Sendable {
        public var namespace: String
        /// This side's address (where a server here listens for the namespace).
        public var gateway: String
        public var address: String
        public var launcher: [String] { ["/usr/sbin/ip", "netns", "exec", namespace] }
    }

    public private(set) var hosts: [Host] = []

    /// `count` namespaces, each on its own /24 of 10.x.y.0 (x from the process id, so
    /// concurrent test runs do not collide).
    public init(count: Int) throws {
        let net = 100 + Int(getpid()) % 100
        for i in 0..<count {
            let name = "pirec-\(getpid())-\(i)"
            let host = Host(namespace: name, gateway: "10.\(net).\(i).1", address: "10.\(net).\(i).2")
            let outside = "pv\(getpid() % 100000)h\(i)", inside = "pv\(getpid() % 100000)n\(i)"
            hosts.append(host)
            for command in [["netns", "add", name],
                            ["link", "add", outside, "type", "veth", "peer", "name", inside],
                            ["link", "set", inside, "netns", name],
                            ["addr", "add", host.gateway + "/24", "dev", outside],
                            ["link", "set", outside, "up"],
                            ["netns", "exec", name, "ip", "addr", "add", host.address + "/24", "dev", inside],
                            ["netns", "exec", name, "ip", "link", "set", inside, "up"],
                            ["netns", "exec", name, "ip", "link", "set", "lo", "up"]] {
                let result = try TestProcess.run("/usr/sbin/ip", command)
                guard result.status == 0 else {
                    throw TestServerError("ip \(command.joined(separator: " ")): \(result.stderr) (needs root and iproute2)")
                }
            }
        }
    }

    /// Deleting a namespace deletes its end of the veth pair, and with it the other end.
    deinit { for host in hosts { _ = try? TestProcess.run("/usr/sbin/ip", ["netns", "del", host.namespace]) } }
}
