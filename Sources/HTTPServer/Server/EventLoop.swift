import CLinux
import Foundation
import Glibc
import Synchronization

/// One epoll instance driven by one thread. Connections live on exactly one loop and are only
/// touched from its thread; other threads hand work over with `execute`, which wakes the loop
/// through an eventfd.
///
/// `@unchecked Sendable`: everything but `execute`, `isCurrent` and `stop` is confined to the
/// loop's thread; the job queue is a `Mutex` and the thread id an `Atomic`.
public final class EventLoop: @unchecked Sendable {
    static let wakeToken: UInt64 = .max
    static let listenerFlag: UInt64 = 1 << 32
    /// How often timeouts are checked; also the longest `epoll_wait` sleep.
    static let tickNanoseconds: UInt64 = 50_000_000

    public let index: Int
    let epollFD: Int32
    private let wakeFD: Int32
    private let events: UnsafeMutablePointer<epoll_event>
    private let maxEvents: Int32 = 512
    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let wakePending = Atomic<Bool>(false)
    private let threadID = Atomic<UInt>(0)
    private let finished = DispatchSemaphore(value: 0)

    // Loop-confined state.
    private var connections: [HTTPConnection?] = []
    private var highestFD: Int32 = 0
    private var listeners: [Int32: Listener] = [:]
    private var stopping = false
    private var nextSweep: UInt64 = 0
    /// Scratch space every read on this loop goes through; connections keep only leftovers.
    let readBuffer: UnsafeMutableRawBufferPointer
    var dateHeader = CachedDateHeader()
    /// Monotonic nanoseconds at the start of the current iteration.
    private(set) var now: UInt64 = argus_monotonic_nanoseconds()

    final class Listener {
        let fd: Int32
        let server: ServerState
        var pausedUntil: UInt64 = 0

        init(fd: Int32, server: ServerState) {
            self.fd = fd
            self.server = server
        }
    }

    init(index: Int) throws {
        self.index = index
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SocketError(call: "epoll_create1") }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wakeFD >= 0 else { throw SocketError(call: "eventfd") }
        events = argus_epoll_events_alloc(maxEvents)
        readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        guard argus_epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, EPOLLIN.rawValue, Self.wakeToken) == 0 else {
            throw SocketError(call: "epoll_ctl(eventfd)")
        }
        let thread = Thread { [self] in self.run() }
        thread.name = "http-loop-\(index)"
        thread.start()
    }

    deinit {
        argus_epoll_events_free(events)
        readBuffer.deallocate()
    }

    /// True on this loop's own thread.
    public var isCurrent: Bool { threadID.load(ordering: .acquiring) == UInt(pthread_self()) }

    /// Runs `job` on the loop's thread, soon. Safe from any thread.
    public func execute(_ job: @escaping @Sendable () -> Void) {
        jobs.withLock { $0.append(job) }
        if !wakePending.exchange(true, ordering: .acquiringAndReleasing) {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    /// Runs `job` on the loop and waits for it. Must not be called from the loop itself.
    func executeAndWait<T: Sendable>(_ job: @escaping @Sendable () -> T) -> T {
        precondition(!isCurrent, "executeAndWait on the loop's own thread would deadlock")
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<T?>(nil)
        execute {
            let value = job()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }

    /// Stops the loop after closing everything it holds, and waits for its thread to end.
    func stop() {
        execute { [self] in stopping = true }
        finished.wait()
    }

    // MARK: - Loop

    private func run() {
        threadID.store(UInt(pthread_self()), ordering: .releasing)
        nextSweep = now + Self.tickNanoseconds
        while !stopping {
            let count = epoll_wait(epollFD, events, maxEvents, Int32(Self.tickNanoseconds / 1_000_000))
            now = argus_monotonic_nanoseconds()
            if count < 0 {
                if errno == EINTR { continue }
                fatalError("epoll_wait failed: \(SocketError(call: "epoll_wait"))")
            }
            for slot in 0..<count {
                let data = argus_epoll_event_data(events, slot)
                let flags = argus_epoll_event_flags(events, slot)
                if data == Self.wakeToken {
                    runJobs()
                } else if data & Self.listenerFlag != 0 {
                    if let listener = listeners[Int32(truncatingIfNeeded: data)] { acceptConnections(listener) }
                } else {
                    let fd = Int32(truncatingIfNeeded: data)
                    guard fd < connections.count, let connection = connections[Int(fd)] else { continue }
                    if flags & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                        connection.readable()
                    }
                    if flags & EPOLLOUT.rawValue != 0, connections[Int(fd)] === connection {
                        connection.writable()
                    }
                }
            }
            if now >= nextSweep {
                nextSweep = now + Self.tickNanoseconds
                sweep()
            }
            if count > 0 {
                // Under load level-triggered epoll always has something ready, so the loop never
                // sleeps and the kernel only switches it out when its time slice runs out, at an
                // arbitrary point mid-batch. On a machine where the loops share cores with other
                // busy threads (the worker pool, a co-located client, the other loops) that makes
                // requests wait for whole slices: ~8 ms p99 where the median is 0.15 ms. Giving
                // the CPU up after each batch, at a point where everything ready has been answered,
                // keeps the hand-offs short. With nothing else runnable it returns at once.
                sched_yield()
            }
        }
        for connection in connections.compactMap({ $0 }) { connection.close() }
        for listener in listeners.values { Glibc.close(listener.fd) }
        listeners = [:]
        Glibc.close(epollFD)
        Glibc.close(wakeFD)
        finished.signal()
    }

    private func runJobs() {
        var counter: UInt64 = 0
        _ = Glibc.read(wakeFD, &counter, 8)
        wakePending.store(false, ordering: .releasing)
        let pending = jobs.withLock { queue -> [@Sendable () -> Void] in
            let taken = queue
            queue.removeAll(keepingCapacity: true)
            return taken
        }
        for job in pending { job() }
    }

    private func sweep() {
        dateHeader.refreshIfNeeded()
        // Summaries of throttled rejection lines go out even when the attack has stopped.
        for listener in listeners.values { listener.server.rejections.flushDue(now: now) }
        for listener in listeners.values where listener.pausedUntil != 0 && now >= listener.pausedUntil {
            listener.pausedUntil = 0
            _ = argus_epoll_ctl(epollFD, EPOLL_CTL_MOD, listener.fd, EPOLLIN.rawValue,
                                Self.listenerFlag | UInt64(UInt32(bitPattern: listener.fd)))
        }
        var fd: Int32 = 0
        while fd <= highestFD && Int(fd) < connections.count {
            connections[Int(fd)]?.checkTimeouts(now: now)
            fd += 1
        }
    }

    // MARK: - Listeners and connections

    func addListener(fd: Int32, server: ServerState) throws {
        let listener = Listener(fd: fd, server: server)
        guard argus_epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, EPOLLIN.rawValue,
                              Self.listenerFlag | UInt64(UInt32(bitPattern: fd))) == 0 else {
            throw SocketError(call: "epoll_ctl(listener)")
        }
        listeners[fd] = listener
    }

    /// Stops accepting for `server` and asks its connections to finish what they are doing.
    func beginShutdown(of server: ServerState) {
        for (fd, listener) in listeners where listener.server === server {
            Glibc.close(fd)
            listeners[fd] = nil
        }
        for connection in connections.compactMap({ $0 }) where connection.server === server {
            connection.beginShutdown()
        }
    }

    /// Closes whatever `server` still has open on this loop.
    func forceClose(of server: ServerState) {
        for connection in connections.compactMap({ $0 }) where connection.server === server {
            connection.close()
        }
    }

    private func acceptConnections(_ listener: Listener) {
        for _ in 0..<256 {
            let fd = argus_accept(listener.fd)
            if fd < 0 {
                switch errno {
                case EAGAIN, EWOULDBLOCK: return
                case EINTR, ECONNABORTED, EPROTO: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors: stop accepting briefly instead of spinning on a ready listener.
                    listener.server.logger.error("accept_paused", ["reason": .string(SocketError(call: "accept4").description)])
                    listener.pausedUntil = now + 100_000_000
                    _ = argus_epoll_ctl(epollFD, EPOLL_CTL_MOD, listener.fd, 0,
                                        Self.listenerFlag | UInt64(UInt32(bitPattern: listener.fd)))
                    return
                default:
                    listener.server.logger.error("accept_failed", ["reason": .string(SocketError(call: "accept4").description)])
                    return
                }
            }
            guard listener.server.admitConnection() else {
                if !listener.server.isShuttingDown {
                    listener.server.reject(.connectionLimit, client: Self.peerAddress(fd),
                                           [("max_connections", .int(listener.server.configuration.maxConnections))])
                }
                Glibc.close(fd)
                continue
            }
            _ = argus_set_int_option(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            let connection = HTTPConnection(fd: fd, loop: self, server: listener.server,
                                            remoteAddress: Self.peerAddress(fd))
            register(connection)
        }
    }

    private func register(_ connection: HTTPConnection) {
        let fd = Int(connection.fd)
        if fd >= connections.count {
            connections.append(contentsOf: repeatElement(nil, count: max(fd + 1 - connections.count, 1024)))
        }
        connections[fd] = connection
        highestFD = max(highestFD, connection.fd)
        if argus_epoll_ctl(epollFD, EPOLL_CTL_ADD, connection.fd, EPOLLIN.rawValue, UInt64(fd)) != 0 {
            connection.close()
        }
    }

    /// Changes the events a connection is woken for.
    func setInterest(_ connection: HTTPConnection, flags: UInt32) {
        _ = argus_epoll_ctl(epollFD, EPOLL_CTL_MOD, connection.fd, flags, UInt64(connection.fd))
    }

    /// Forgets a connection; closing its fd removes it from epoll.
    func deregister(_ connection: HTTPConnection) {
        let fd = Int(connection.fd)
        if fd < connections.count, connections[fd] === connection { connections[fd] = nil }
    }

    static func peerAddress(_ fd: Int32) -> String {
        var host = [CChar](repeating: 0, count: 64)
        var port: Int32 = 0
        guard argus_socket_address(fd, 0, &host, 64, &port) == 0 else { return "" }
        return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension CachedDateHeader {
    mutating func refreshIfNeeded() { _ = current() }
}
