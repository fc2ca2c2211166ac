/// A complete message, or a control event, reassembled from frames.
public enum WebSocketEvent: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    /// The peer's close frame: its code (`.noStatusReceived` when it had none) and reason.
    case close(WebSocketCloseCode, String)
}

/// Joins fragmented messages (RFC 6455 §5.4) and validates what the frame codec cannot see:
/// continuation order, message size, UTF-8 of text messages and close payloads.
public struct WebSocketMessageAssembler: Sendable {
    public let maxMessageBytes: Int
    private var fragmentOpcode: WebSocketOpcode?
    private var fragments: [UInt8] = []

    public init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    public mutating func push(_ frame: WebSocketFrame) throws(WebSocketProtocolError) -> WebSocketEvent? {
        switch frame.opcode {
        case .ping: return .ping(frame.payload)
        case .pong: return .pong(frame.payload)
        case .close: return try Self.closeEvent(frame.payload)
        case .text, .binary:
            guard fragmentOpcode == nil else {
                throw WebSocketProtocolError(.protocolError, "new message before the previous one finished")
            }
            if frame.fin { return try Self.message(frame.opcode, frame.payload) }
            guard frame.payload.count <= maxMessageBytes else {
                throw WebSocketProtocolError(.messageTooBig, "message larger than \(maxMessageBytes) bytes")
            }
            fragmentOpcode = frame.opcode
            fragments = frame.payload
            return nil
        case .continuation:
            guard let opcode = fragmentOpcode else {
                throw WebSocketProtocolError(.protocolError, "continuation without a message to continue")
            }
            guard fragments.count + frame.payload.count <= maxMessageBytes else {
                throw WebSocketProtocolError(.messageTooBig, "message larger than \(maxMessageBytes) bytes")
            }
            fragments.append(contentsOf: frame.payload)
            guard frame.fin else { return nil }
            let payload = fragments
            fragments = []
            fragmentOpcode = nil
            return try Self.message(opcode, payload)
        }
    }

    private static func message(_ opcode: WebSocketOpcode, _ payload: [UInt8]) throws(WebSocketProtocolError) -> WebSocketEvent {
        guard opcode == .text else { return .binary(payload) }
        // §8.1: invalid UTF-8 in a text message fails the connection with 1007.
        guard let text = String(validating: payload, as: UTF8.self) else {
            throw WebSocketProtocolError(.invalidPayload, "text message is not valid UTF-8")
        }
        return .text(text)
    }

    private static func closeEvent(_ payload: [UInt8]) throws(WebSocketProtocolError) -> WebSocketEvent {
        if payload.isEmpty { return .close(.noStatusReceived, "") }
        guard payload.count >= 2 else { throw WebSocketProtocolError(.protocolError, "close payload of one byte") }
        let code = WebSocketCloseCode(rawValue: UInt16(payload[0]) << 8 | UInt16(payload[1]))
        guard code.isValidOnTheWire else { throw WebSocketProtocolError(.protocolError, "invalid close code \(code)") }
        guard let reason = String(validating: payload[2...], as: UTF8.self) else {
            throw WebSocketProtocolError(.invalidPayload, "close reason is not valid UTF-8")
        }
        return .close(code, reason)
    }
}
