import CLinux
import Dispatch
import Glibc
import Synchronization

/// An HTTP/1.1 and WebSocket server on epoll.
///
/// ```swift
/// let router = Router(context: BasicRequestContext.self)
/// router.get("/health", execution: .eventLoop) { _, _ in .json(["status": "ok"]) }
/// let server = HTTPServer(configuration: .init(host: "127.0.0.1", port: 8000), responder: router)
/// try server.start()
/// server.waitForTerminationSignal()   // SIGINT/SIGTERM: graceful shutdown
/// ```
///
/// Each event loop gets its own listening socket bound with `SO_REUSEPORT`, so the kernel spreads
/// new connections across loops. Handlers that may block run on `workerPool`.
public final class HTTPServer: Sendable {
    public let configuration: Configuration
    public let group: EventLoopGroup
    public let workerPool: WorkerPool
    private let ownsGroup: Bool
    private let ownsPool: Bool
    let state: ServerState
    private let lifecycle = Mutex<Lifecycle>(.idle)

    private enum Lifecycle {
        case idle
        case running(port: Int)
        case stopped
    }

    /// - Parameters:
    ///   - eventLoopGroup: loops to share with other servers; by default the server starts its
    ///     own, one per core, and stops them on shutdown.
    ///   - workerPool: where blocking handlers run; by default a pool of 16 threads.
    public init(configuration: Configuration, responder: some HTTPResponder, eventLoopGroup: EventLoopGroup? = nil,
                workerPool: WorkerPool? = nil) throws {
        self.configuration = configuration
        if let eventLoopGroup {
            group = eventLoopGroup
            ownsGroup = false
        } else {
            group = try EventLoopGroup()
            ownsGroup = true
        }
        self.workerPool = workerPool ?? WorkerPool()
        ownsPool = workerPool == nil
        state = ServerState(configuration: configuration, responder: responder, workerPool: self.workerPool)
    }

    /// The bound port (useful after configuring port 0), or nil before `start()`.
    public var port: Int? {
        lifecycle.withLock { state in
            if case .running(let port) = state { return port }
            return nil
        }
    }

    /// Number of open connections, WebSocket connections included.
    public var connectionCount: Int { state.activeConnections.load(ordering: .relaxed) }

    /// How many times each kind of ``ConnectionRejection`` happened since start (every kind, zeros included).
    public var rejections: [(kind: ConnectionRejection, count: UInt64)] {
        ConnectionRejection.allCases.map { ($0, state.rejections.total(of: $0.rawValue)) }
    }

    /// Binds one listener per loop and starts accepting. Throws `SocketError` naming the failed call.
    public func start() throws {
        try lifecycle.withLock { lifecycle in
            guard case .idle = lifecycle else { throw SocketError(call: "start", errorNumber: EALREADY, context: "already started") }
            var port = configuration.port
            var listenerFDs: [Int32] = []
            do {
                for _ in group.loops {
                    var stage: UnsafePointer<CChar>? = nil
                    let fd = argus_listen(configuration.host, Int32(port), Int32(configuration.backlog), 1, &stage)
                    guard fd >= 0 else {
                        throw SocketError(call: stage.map { String(cString: $0) } ?? "listen",
                                          context: "\(configuration.host):\(port)")
                    }
                    listenerFDs.append(fd)
                    if port == 0 {
                        // Later loops bind the port the kernel picked for the first one.
                        var host = [CChar](repeating: 0, count: 64)
                        var bound: Int32 = 0
                        guard argus_socket_address(fd, 1, &host, 64, &bound) == 0 else {
                            throw SocketError(call: "getsockname")
                        }
                        port = Int(bound)
                    }
                }
            } catch {
                for fd in listenerFDs { Glibc.close(fd) }
                throw error
            }
            for (loop, fd) in zip(group.loops, listenerFDs) {
                let state = self.state
                let failure: SocketError? = loop.executeAndWait {
                    do { try loop.addListener(fd: fd, server: state) } catch let error as SocketError { return error } catch {}
                    return nil
                }
                if let failure { throw failure }
            }
            lifecycle = .running(port: port)
            state.logger.info("server_started", ["host": .string(configuration.host), "port": .int(port),
                                                 "event_loops": .int(group.loops.count)])
        }
    }

    /// Stops accepting, lets in-flight requests finish (their responses carry `Connection: close`),
    /// closes idle connections and sends WebSocket clients 1001, then waits up to `gracePeriod`
    /// before closing whatever is left. Blocks the caller; safe to call more than once.
    public func shutdown(gracePeriod: Duration = .seconds(10)) {
        let wasRunning = lifecycle.withLock { lifecycle -> Bool in
            guard case .running = lifecycle else { return false }
            lifecycle = .stopped
            return true
        }
        guard wasRunning else { return }
        state.shuttingDown.store(true, ordering: .relaxed)
        let state = self.state
        for loop in group.loops { loop.execute { loop.beginShutdown(of: state) } }
        let deadline = DispatchTime.now().uptimeNanoseconds + gracePeriod.nanoseconds
        while state.activeConnections.load(ordering: .relaxed) > 0 && DispatchTime.now().uptimeNanoseconds < deadline {
            usleep(5_000)
        }
        for loop in group.loops { loop.executeAndWait { loop.forceClose(of: state) } }
        state.logger.info("server_stopped", ["port": .int(configuration.port)])
        if ownsGroup { group.shutdown() }
        if ownsPool { workerPool.shutdown() }
    }

    /// Blocks until SIGINT or SIGTERM, then shuts down gracefully.
    public func waitForTerminationSignal(gracePeriod: Duration = .seconds(10)) {
        TerminationSignal.wait()
        state.logger.info("termination_signal")
        shutdown(gracePeriod: gracePeriod)
    }
}

/// SIGINT/SIGTERM turned into a wait, through Dispatch signal sources (no async-signal-unsafe work
/// in a handler).
public enum TerminationSignal {
    /// Blocks the calling thread until SIGINT or SIGTERM arrives.
    public static func wait() {
        let received = DispatchSemaphore(value: 0)
        let queue = DispatchQueue(label: "termination-signal")
        var sources: [DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { received.signal() }
            source.resume()
            sources.append(source)
        }
        received.wait()
        for source in sources { source.cancel() }
    }
}
