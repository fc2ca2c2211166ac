import CLinux
import Glibc

/// One accepted socket: reads bytes, parses requests one at a time (pipelined requests wait in
/// `inbound`), hands each to the responder, writes responses in order, and enforces timeouts and
/// backpressure. After a WebSocket upgrade the same object speaks RFC 6455 instead.
///
/// `@unchecked Sendable`: it is created, used and closed only on its loop's thread. Other threads
/// (worker pool, WebSocket senders) only capture it to send a job to `loop.execute`.
final class HTTPConnection: @unchecked Sendable {
    let fd: Int32
    let id: UInt64
    let loop: EventLoop
    let server: ServerState
    let remoteAddress: String

    private var parser: HTTPRequestParser
    /// Bytes received but not yet consumed by the parser (or frame decoder).
    var inbound: [UInt8] = []
    var outbound = OutboundQueue()

    private(set) var isClosed = false
    private var isProcessing = false
    /// A request was handed to the responder and has not been answered yet.
    private var inFlight = false
    private var inFlightIsHead = false
    private var inFlightKeepAlive = true
    private var inFlightIsHTTP10 = false
    /// Close once `outbound` is written (`Connection: close`, errors, shutdown).
    var closeAfterFlush = false
    private var inputClosed = false
    private var shutdownRequested = false
    /// After the last response, the write side is shut and remaining input is drained briefly so
    /// the client reads the response instead of a reset.
    private var lingering = false
    private var lingerDeadline: UInt64 = 0
    private var interest: UInt32 = EPOLLIN.rawValue

    // Timestamps (monotonic ns) for the timeouts.
    private var idleSince: UInt64
    private var requestStartedAt: UInt64 = 0
    private var headCompletedAt: UInt64 = 0
    private var lastWriteProgress: UInt64 = 0

    /// Non-nil after a WebSocket upgrade.
    var webSocket: WebSocketSession?

    init(fd: Int32, loop: EventLoop, server: ServerState, remoteAddress: String) {
        self.fd = fd
        self.loop = loop
        self.server = server
        self.remoteAddress = remoteAddress
        self.id = server.makeConnectionID()
        self.parser = HTTPRequestParser(limits: server.configuration.parserLimits)
        self.idleSince = loop.now
    }

    // MARK: - Events from the loop

    func readable() {
        guard !isClosed else { return }
        let count = Glibc.read(fd, loop.readBuffer.baseAddress, loop.readBuffer.count)
        if count > 0 {
            if lingering { return }
            received(UnsafeRawBufferPointer(rebasing: loop.readBuffer[0..<count]))
        } else if count == 0 {
            endOfInput()
        } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            close()
            return
        }
        if !isClosed { updateInterest() }
    }

    func writable() {
        guard !isClosed else { return }
        flush()
        if isClosed { return }
        if outbound.isEmpty, webSocket == nil, !inFlight, !closeAfterFlush, !inbound.isEmpty {
            processInbound()
            flush()
        }
        if !isClosed { updateInterest() }
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        if webSocket != nil {
            webSocketReceived(bytes)
            return
        }
        if closeAfterFlush || inputClosed { return }
        if inbound.isEmpty && parser.isAtMessageStart && !inFlight { requestStartedAt = loop.now }
        if inbound.isEmpty && !inFlight {
            let consumed = process(bytes)
            if consumed < bytes.count {
                inbound.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
            }
            afterProcessing()
        } else {
            inbound.append(contentsOf: bytes)
            if !inFlight { processInbound() }
        }
        flush()
    }

    private func processInbound() {
        guard !inbound.isEmpty else { return }
        let consumed = inbound.withUnsafeBytes { process($0) }
        if consumed >= inbound.count {
            inbound = []
        } else if consumed > 0 {
            inbound.removeFirst(consumed)
        }
        afterProcessing()
    }

    /// Work that must happen outside `inbound.withUnsafeBytes`.
    private func afterProcessing() {
        if webSocket != nil, !inbound.isEmpty {
            // Frames the client sent right behind its upgrade request.
            let early = inbound
            inbound = []
            early.withUnsafeBytes { webSocketReceived($0) }
        }
    }

    /// Parses and dispatches as many requests as allowed. Returns the bytes consumed.
    private func process(_ buffer: UnsafeRawBufferPointer) -> Int {
        isProcessing = true
        defer { isProcessing = false }
        var offset = 0
        while !inFlight && !closeAfterFlush && webSocket == nil
            && outbound.byteCount < server.configuration.outboundHighWatermark {
            let step: HTTPRequestParser.Step
            do {
                step = try parser.parse(UnsafeRawBufferPointer(rebasing: buffer[offset...]))
            } catch {
                rejectRequest(ConnectionRejection(error), status: HTTPStatus(code: error.statusCode), detail: error.description)
                return buffer.count
            }
            offset += step.consumed
            guard let event = step.event else {
                if step.consumed == 0 { break }
                continue
            }
            switch event {
            case .head(let head):
                headCompletedAt = loop.now
                if head.expectsContinue { outbound.append(ResponseEncoder.continueLine) }
            case .message(let head, let body):
                dispatch(head: head, body: body)
                if offset < buffer.count && !inFlight { requestStartedAt = loop.now }
            }
        }
        return offset
    }

    private func dispatch(head: HTTPRequestHead, body: [UInt8]) {
        inFlight = true
        inFlightIsHead = head.method == .head
        inFlightKeepAlive = head.keepAlive
        inFlightIsHTTP10 = head.version == .http1_0
        let request = Request(head: head, body: body, remoteAddress: remoteAddress)
        let loop = self.loop
        server.responder.respond(to: request, workerPool: server.workerPool) { [self] response in
            if loop.isCurrent {
                self.complete(response)
            } else {
                loop.execute { self.complete(response) }
            }
        }
    }

    /// Writes the answer to the request in flight, then carries on with pipelined input.
    func complete(_ response: Response) {
        defer { response.afterWrite?() }
        guard !isClosed, inFlight else { return }
        inFlight = false
        idleSince = loop.now
        if let upgrade = response.webSocketUpgrade, response.status.code == 101 {
            let (head, _) = ResponseEncoder.encode(response, dateLine: loop.dateHeader.current(), keepAlive: true,
                                                   http10: false, omitBody: true)
            outbound.append(head)
            startWebSocket(upgrade)
        } else {
            let keepAlive = inFlightKeepAlive && !shutdownRequested && !server.isShuttingDown && !inputClosed
            if !keepAlive { closeAfterFlush = true }
            let (head, body) = ResponseEncoder.encode(response, dateLine: loop.dateHeader.current(), keepAlive: keepAlive,
                                                      http10: inFlightIsHTTP10, omitBody: inFlightIsHead)
            outbound.append(head)
            if let body { outbound.append(body) }
        }
        guard !isProcessing else { return }
        flush()
        if !isClosed && !closeAfterFlush && !inbound.isEmpty {
            processInbound()
            flush()
        }
        if !isClosed { updateInterest() }
    }

    /// Answers a request that never reached the router (bad framing, timeout) and closes.
    private func rejectRequest(_ kind: ConnectionRejection, status: HTTPStatus, detail: String) {
        server.reject(kind, client: remoteAddress, [("status", .int(status.code)), ("detail", .string(detail))])
        closeAfterFlush = true
        inbound = []
        let response = Response.detail(detail, status: status)
        let (head, _) = ResponseEncoder.encode(response, dateLine: loop.dateHeader.current(), keepAlive: false,
                                               http10: false, omitBody: false)
        outbound.append(head)
    }

    private func endOfInput() {
        inputClosed = true
        if lingering || webSocket != nil {
            if let webSocket { webSocket.peerVanished() }
            close()
            return
        }
        // A half-closed client may still wait for the answer to its request in flight.
        if inFlight { return }
        close()
    }

    // MARK: - Writing

    func flush() {
        guard !isClosed else { return }
        if !outbound.isEmpty {
            switch outbound.write(to: fd) {
            case .complete:
                lastWriteProgress = loop.now
            case .wouldBlock(let progressed):
                if progressed || lastWriteProgress == 0 || interest & EPOLLOUT.rawValue == 0 {
                    lastWriteProgress = loop.now
                }
                return
            case .failed:
                close()
                return
            }
        }
        if closeAfterFlush && !inFlight { beginLingeringClose() }
    }

    private func beginLingeringClose() {
        guard !lingering else { return }
        if inputClosed {
            close()
            return
        }
        lingering = true
        lingerDeadline = loop.now + 2_000_000_000
        inbound = []
        shutdown(fd, Int32(SHUT_WR))
    }

    func updateInterest() {
        guard !isClosed else { return }
        var wanted: UInt32 = 0
        if lingering {
            wanted = EPOLLIN.rawValue
        } else {
            let readPaused = inputClosed || (webSocket == nil && (inFlight || closeAfterFlush
                || outbound.byteCount >= server.configuration.outboundHighWatermark))
            if !readPaused { wanted |= EPOLLIN.rawValue }
            if !outbound.isEmpty { wanted |= EPOLLOUT.rawValue }
        }
        if wanted != interest {
            interest = wanted
            loop.setInterest(self, flags: wanted)
        }
    }

    // MARK: - Timeouts and shutdown

    func checkTimeouts(now: UInt64) {
        guard !isClosed else { return }
        if lingering {
            if now >= lingerDeadline { close() }
            return
        }
        if !outbound.isEmpty && now - lastWriteProgress > server.writeTimeout {
            server.reject(.writeTimeout, client: remoteAddress)
            close()
            return
        }
        if let webSocket {
            webSocket.checkTimeouts(now: now)
            return
        }
        if inFlight || closeAfterFlush { return }
        if parser.isReadingBody {
            if now - headCompletedAt > server.bodyTimeout {
                timeOut(.bodyTimeout, detail: "Request body not received in time")
            }
        } else if !parser.isAtMessageStart || !inbound.isEmpty {
            if now - requestStartedAt > server.headerTimeout {
                timeOut(.headerTimeout, detail: "Request header not received in time")
            }
        } else if now - idleSince > server.idleTimeout {
            close()
        }
    }

    private func timeOut(_ kind: ConnectionRejection, detail: String) {
        rejectRequest(kind, status: .requestTimeout, detail: detail)
        flush()
        updateInterest()
    }

    /// Graceful shutdown: idle connections close now, busy ones after their current response.
    func beginShutdown() {
        guard !isClosed else { return }
        shutdownRequested = true
        if let webSocket {
            webSocket.close(code: .goingAway, reason: "Server shutting down")
            return
        }
        if !inFlight && parser.isAtMessageStart && inbound.isEmpty {
            closeAfterFlush = true
            flush()
            if !isClosed { updateInterest() }
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        loop.deregister(self)
        Glibc.close(fd)
        outbound.removeAll()
        inbound = []
        server.connectionClosed()
        webSocket?.connectionClosed()
    }
}
