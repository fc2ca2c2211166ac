extension HTTPServer {
    /// Everything that shapes one listener and the connections it accepts.
    ///
    /// The defaults are what an operator exposing the daemon would expect; every timeout guards
    /// against a kind of slow or hostile client.
    public struct Configuration: Sendable {
        /// Numeric address or hostname; `"::"` listens on IPv6 (and IPv4 where dual-stack).
        public var host: String = "127.0.0.1"
        /// 0 picks a free port; read it back from `HTTPServer.port` after `start()`.
        public var port: Int = 8000
        public var backlog: Int = 1024
        public var parserLimits = HTTPParserLimits()
        /// Time from the first byte of a request until its head is complete (slowloris guard).
        public var headerTimeout: Duration = .seconds(10)
        /// Time from the end of the head until the body is complete.
        public var bodyTimeout: Duration = .seconds(30)
        /// A keep-alive connection with no request in progress is closed after this.
        public var idleTimeout: Duration = .seconds(60)
        /// A response the client does not read for this long ends the connection.
        public var writeTimeout: Duration = .seconds(30)
        /// Connections beyond this are closed right after accept.
        public var maxConnections: Int = 16_384
        /// Reading from a connection pauses while this many response bytes wait to be written.
        public var outboundHighWatermark: Int = 256 * 1024
        public var webSocket = WebSocketConfiguration()
        /// Where connection-level problems (bad requests, timeouts) are logged.
        public var logger = Logger(label: "http")
        /// Each kind of ``ConnectionRejection`` is logged at most once per interval (the first at
        /// once, then a summary with a count), so a flood of bad clients cannot flood the log.
        public var rejectionLogInterval: Duration = .seconds(10)

        public init(host: String = "127.0.0.1", port: Int = 8000) {
            self.host = host
            self.port = port
        }
    }
}

/// Limits for WebSocket connections (RFC 6455).
public struct WebSocketConfiguration: Sendable {
    /// Largest single frame payload accepted; larger closes with 1009.
    public var maxFrameBytes: Int = 64 * 1024
    /// Largest reassembled message accepted; larger closes with 1009.
    public var maxMessageBytes: Int = 1024 * 1024
    /// Outgoing bytes a client may leave unread before it counts as a slow consumer.
    public var maxBufferedBytes: Int = 4 * 1024 * 1024
    /// How long to wait for the client's close frame after sending ours.
    public var closeTimeout: Duration = .seconds(5)

    public init() {}
}

extension Duration {
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}
