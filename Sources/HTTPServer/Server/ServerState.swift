import Synchronization

/// What every connection of one `HTTPServer` shares: configuration, responder, pool, counters.
final class ServerState: Sendable {
    let configuration: HTTPServer.Configuration
    let responder: any HTTPResponder
    let workerPool: WorkerPool
    let logger: Logger
    /// Counts and rate-limits the log lines of clients' misbehaviour (``ConnectionRejection``).
    let rejections: ThrottledLog
    let activeConnections = Atomic<Int>(0)
    let shuttingDown = Atomic<Bool>(false)
    private let nextConnectionID = Atomic<UInt64>(1)

    // Timeouts in nanoseconds, computed once.
    let headerTimeout: UInt64
    let bodyTimeout: UInt64
    let idleTimeout: UInt64
    let writeTimeout: UInt64
    let webSocketCloseTimeout: UInt64

    init(configuration: HTTPServer.Configuration, responder: any HTTPResponder, workerPool: WorkerPool) {
        self.configuration = configuration
        self.responder = responder
        self.workerPool = workerPool
        self.logger = configuration.logger
        rejections = ThrottledLog(logger: configuration.logger, interval: configuration.rejectionLogInterval)
        headerTimeout = configuration.headerTimeout.nanoseconds
        bodyTimeout = configuration.bodyTimeout.nanoseconds
        idleTimeout = configuration.idleTimeout.nanoseconds
        writeTimeout = configuration.writeTimeout.nanoseconds
        webSocketCloseTimeout = configuration.webSocket.closeTimeout.nanoseconds
    }

    var isShuttingDown: Bool { shuttingDown.load(ordering: .relaxed) }

    /// Counts a new connection in; false when the server is at `maxConnections` or shutting down.
    func admitConnection() -> Bool {
        if isShuttingDown { return false }
        let count = activeConnections.wrappingAdd(1, ordering: .relaxed).newValue
        if count > configuration.maxConnections {
            activeConnections.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func connectionClosed() { activeConnections.wrappingSubtract(1, ordering: .relaxed) }

    func makeConnectionID() -> UInt64 { nextConnectionID.wrappingAdd(1, ordering: .relaxed).oldValue }
}
