// MetricsServer: `GET /metrics` over HTTP/1.1 (swift-nio's HTTP server pipeline, one event
// loop thread), answering DaemonMetrics' exposition text; anything else is 404 or 405. It
// listens on the socket systemd passed (LISTEN_FDS, from pirecd-metrics.socket, so the
// service itself needs no network) or binds `metrics:` itself when run by hand.
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import PirecCore

final class MetricsServer {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    /// Where it listens, for the log.
    let listening: String

    /// Serves `metrics` on `inherited` (a listening socket's descriptor) or at `address`.
    init(address: MetricsAddress, inherited: Int32?, metrics: DaemonMetrics) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(metrics: metrics))
                }
            }
        do {
            if let inherited {
                channel = try bootstrap.withBoundSocket(inherited).wait()
                let local = channel.localAddress.map { $0.pathname ?? "\($0.ipAddress ?? "?"):\($0.port ?? 0)" }
                listening = "\(local ?? "descriptor \(inherited)") (the socket systemd passed)"
            } else {
                switch address {
                case let .tcp(host, port): channel = try bootstrap.bind(host: host, port: port).wait()
                case let .unix(path): channel = try bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).wait()
                }
                listening = address.description
            }
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    func close() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// The listening socket systemd passed, when it passed one to this process (sd_listen_fds:
    /// LISTEN_PID is ours, LISTEN_FDS >= 1, the first is descriptor 3).
    static func inheritedSocket(environment: [String: String]) -> Int32? {
        guard environment["LISTEN_PID"].flatMap(Int32.init) == getpid(),
              let count = environment["LISTEN_FDS"].flatMap(Int.init), count >= 1 else { return nil }
        _ = fcntl(3, F_SETFD, FD_CLOEXEC)
        return 3
    }
}

/// One request at a time per connection: the head says what, the end answers it.
private final class MetricsHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: DaemonMetrics
    private var request: HTTPRequestHead?

    init(metrics: DaemonMetrics) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head): request = head
        case .body: break
        case .end:
            guard let head = request else { return }
            request = nil
            respond(context, head)
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let (status, type, body): (HTTPResponseStatus, String, [UInt8]) =
            path != "/metrics" ? (.notFound, "text/plain; charset=utf-8", Array("not found: try /metrics\n".utf8))
            : head.method != .GET && head.method != .HEAD ? (.methodNotAllowed, "text/plain; charset=utf-8", Array("GET only\n".utf8))
            : (.ok, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape())
        var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", String(body.count))])
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                      promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let keepAlive = head.isKeepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}
