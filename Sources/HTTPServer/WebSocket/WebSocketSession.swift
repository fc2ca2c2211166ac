/// The RFC 6455 side of an upgraded connection: frame decoding, reassembly, control frames and
/// the close handshake. Confined to the connection's loop.
final class WebSocketSession {
    unowned let connection: HTTPConnection
    let handler: WebSocketHandler
    let socket: WebSocket
    private let configuration: WebSocketConfiguration
    private var assembler: WebSocketMessageAssembler
    private(set) var closeSent = false
    private var closeSentAt: UInt64 = 0
    private var closeReported = false
    /// After a protocol error or the peer's close, further input is ignored.
    private var inputFinished = false
    private var closeCodeSent = WebSocketCloseCode.normalClosure

    init(connection: HTTPConnection, handler: WebSocketHandler, request: Request, configuration: WebSocketConfiguration) {
        self.connection = connection
        self.handler = handler
        self.configuration = configuration
        self.assembler = WebSocketMessageAssembler(maxMessageBytes: configuration.maxMessageBytes)
        self.socket = WebSocket(connection: connection, request: request)
    }

    /// Decodes as many frames as `buffer` holds. Returns the bytes consumed.
    func consume(_ buffer: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        while offset < buffer.count && !inputFinished && !connection.isClosed {
            do {
                guard let (frame, used) = try WebSocketFrameCodec.decode(
                    UnsafeRawBufferPointer(rebasing: buffer[offset...]), maxPayloadBytes: configuration.maxFrameBytes)
                else { break }
                offset += used
                if let event = try assembler.push(frame) { handle(event) }
            } catch {
                fail(error)
                return buffer.count
            }
        }
        return inputFinished ? buffer.count : offset
    }

    private func handle(_ event: WebSocketEvent) {
        switch event {
        case .text(let text):
            if !closeSent { handler.onMessage(socket, .text(text)) }
        case .binary(let bytes):
            if !closeSent { handler.onMessage(socket, .binary(bytes)) }
        case .ping(let payload):
            if !closeSent { _ = send(frame: WebSocketFrameCodec.encode(opcode: .pong, payload: payload), dropIfSlow: false) }
        case .pong:
            break
        case .close(let code, _):
            inputFinished = true
            if !closeSent {
                // §5.5.1: answer with a close frame, echoing the status code.
                let reply = code == .noStatusReceived ? WebSocketFrameCodec.encode(opcode: .close, payload: [])
                    : WebSocketFrameCodec.encodeClose(code: code, reason: "")
                closeSent = true
                connection.outbound.append(reply)
            }
            reportClose(code)
            // §7.1.1: the server closes the TCP connection first.
            connection.closeAfterFlush = true
        }
    }

    private func fail(_ error: WebSocketProtocolError) {
        connection.server.reject(.webSocketProtocolError, client: connection.remoteAddress,
                                 [("code", .int(Int(error.closeCode.rawValue))), ("reason", .string(error.reason))])
        inputFinished = true
        if !closeSent {
            closeSent = true
            connection.outbound.append(WebSocketFrameCodec.encodeClose(code: error.closeCode, reason: error.reason))
        }
        reportClose(error.closeCode)
        connection.closeAfterFlush = true
    }

    /// Queues a frame unless the peer is over its buffer limit. Returns whether it was queued.
    func send(frame: [UInt8], dropIfSlow: Bool) -> Bool {
        guard !closeSent, !connection.isClosed else { return false }
        if connection.outbound.byteCount + frame.count > configuration.maxBufferedBytes {
            if dropIfSlow { return false }
            // A consumer that does not read would otherwise grow our memory without bound.
            connection.server.reject(.webSocketSlowConsumer, client: connection.remoteAddress,
                                     [("unread_bytes", .int(connection.outbound.byteCount))])
            reportClose(.policyViolation)
            connection.close()
            return false
        }
        connection.outbound.append(frame)
        connection.flush()
        connection.updateInterest()
        return true
    }

    /// Server-initiated close handshake.
    func close(code: WebSocketCloseCode, reason: String) {
        guard !closeSent, !connection.isClosed else { return }
        closeSent = true
        closeCodeSent = code
        closeSentAt = connection.loop.now
        connection.outbound.append(WebSocketFrameCodec.encodeClose(code: code, reason: reason))
        connection.flush()
        connection.updateInterest()
    }

    func checkTimeouts(now: UInt64) {
        if closeSent && !inputFinished && closeSentAt > 0
            && now - closeSentAt > connection.server.webSocketCloseTimeout {
            reportClose(closeCodeSent)
            connection.close()
        }
    }

    func peerVanished() { reportClose(closeSent ? closeCodeSent : .abnormalClosure) }

    func connectionClosed() { reportClose(closeSent ? closeCodeSent : .abnormalClosure) }

    private func reportClose(_ code: WebSocketCloseCode) {
        guard !closeReported else { return }
        closeReported = true
        handler.onClose(socket, code)
        socket.runCloseHooks()
    }
}
