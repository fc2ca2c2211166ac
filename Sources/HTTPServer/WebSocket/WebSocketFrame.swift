/// A WebSocket opcode (RFC 6455 §5.2).
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// A protocol violation by the peer, with the close code it is answered with.
public struct WebSocketProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    public var closeCode: WebSocketCloseCode
    public var reason: String

    public init(_ closeCode: WebSocketCloseCode, _ reason: String) {
        self.closeCode = closeCode
        self.reason = reason
    }

    public var description: String { "WebSocket error \(closeCode.rawValue): \(reason)" }
}

/// One frame with its payload already unmasked.
public struct WebSocketFrame: Sendable, Equatable {
    public var fin: Bool
    public var opcode: WebSocketOpcode
    public var payload: [UInt8]

    public init(fin: Bool = true, opcode: WebSocketOpcode, payload: [UInt8]) {
        self.fin = fin
        self.opcode = opcode
        self.payload = payload
    }
}

/// Frame codec (RFC 6455 §5.2). Pure functions over bytes so they can be fuzzed alone.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-------+-+-------------+-------------------------------+
/// |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
/// |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
/// |N|V|V|V|       |S|             |   (if payload len==126/127)   |
/// | |1|2|3|       |K|             |                               |
/// +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
/// |     Extended payload length continued, if payload len == 127  |
/// + - - - - - - - - - - - - - - - +-------------------------------+
/// |                               |Masking-key, if MASK set to 1  |
/// +-------------------------------+-------------------------------+
/// | Masking-key (continued)       |          Payload Data         |
/// +-------------------------------- - - - - - - - - - - - - - - - +
/// ```
public enum WebSocketFrameCodec {
    /// Decodes the frame at the start of `bytes`.
    /// - Returns: the frame and the bytes it used, or nil when more bytes are needed.
    /// - Throws: on any violation, as soon as the header shows it (a huge length is refused
    ///   before its payload arrives).
    public static func decode(_ bytes: UnsafeRawBufferPointer, maxPayloadBytes: Int,
                              requireMask: Bool = true) throws(WebSocketProtocolError) -> (WebSocketFrame, Int)? {
        guard bytes.count >= 2 else { return nil }
        let first = bytes[0], second = bytes[1]
        // No extension is negotiated, so RSV bits must be zero (§5.2).
        guard first & 0x70 == 0 else { throw WebSocketProtocolError(.protocolError, "reserved bits set") }
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else {
            throw WebSocketProtocolError(.protocolError, "unknown opcode")
        }
        let fin = first & 0x80 != 0
        let masked = second & 0x80 != 0
        // §5.1: a server MUST close the connection on an unmasked client frame.
        if requireMask && !masked { throw WebSocketProtocolError(.protocolError, "client frame not masked") }
        var length = Int(second & 0x7F)
        var offset = 2
        if opcode.isControl {
            // §5.5: control frames are never fragmented and carry at most 125 bytes.
            guard fin else { throw WebSocketProtocolError(.protocolError, "fragmented control frame") }
            guard length <= 125 else { throw WebSocketProtocolError(.protocolError, "control frame too long") }
        }
        if length == 126 {
            guard bytes.count >= 4 else { return nil }
            length = Int(bytes[2]) << 8 | Int(bytes[3])
            offset = 4
        } else if length == 127 {
            guard bytes.count >= 10 else { return nil }
            guard bytes[2] & 0x80 == 0 else { throw WebSocketProtocolError(.protocolError, "length has its top bit set") }
            var value: UInt64 = 0
            for index in 2..<10 { value = value << 8 | UInt64(bytes[index]) }
            guard value <= UInt64(maxPayloadBytes) else {
                throw WebSocketProtocolError(.messageTooBig, "frame larger than \(maxPayloadBytes) bytes")
            }
            length = Int(value)
            offset = 10
        }
        guard length <= maxPayloadBytes else {
            throw WebSocketProtocolError(.messageTooBig, "frame larger than \(maxPayloadBytes) bytes")
        }
        var mask: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        if masked {
            guard bytes.count >= offset + 4 else { return nil }
            mask = (bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3])
            offset += 4
        }
        guard bytes.count >= offset + length else { return nil }
        var payload = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
        if masked { unmask(&payload, mask: mask) }
        return (WebSocketFrame(fin: fin, opcode: opcode, payload: payload), offset + length)
    }

    /// XORs with the 4-byte key (§5.3), eight bytes at a time where possible.
    static func unmask(_ payload: inout [UInt8], mask: (UInt8, UInt8, UInt8, UInt8)) {
        let key = [mask.0, mask.1, mask.2, mask.3]
        payload.withUnsafeMutableBytes { buffer in
            var index = 0
            if buffer.count >= 8 {
                var wide: UInt64 = 0
                withUnsafeMutableBytes(of: &wide) { word in
                    for position in 0..<8 { word[position] = key[position & 3] }
                }
                while index + 8 <= buffer.count {
                    let value = buffer.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ wide
                    buffer.storeBytes(of: value, toByteOffset: index, as: UInt64.self)
                    index += 8
                }
            }
            while index < buffer.count {
                buffer[index] ^= key[index & 3]
                index += 1
            }
        }
    }

    /// Encodes a server frame (servers never mask, §5.1).
    public static func encode(opcode: WebSocketOpcode, payload: [UInt8], fin: Bool = true) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(payload.count + 10)
        output.append((fin ? 0x80 : 0) | opcode.rawValue)
        if payload.count < 126 {
            output.append(UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            output.append(126)
            output.append(UInt8(payload.count >> 8))
            output.append(UInt8(payload.count & 0xFF))
        } else {
            output.append(127)
            for shift in stride(from: 56, through: 0, by: -8) { output.append(UInt8((payload.count >> shift) & 0xFF)) }
        }
        output.append(contentsOf: payload)
        return output
    }

    /// A close frame carrying `code` and a reason trimmed to fit the 125-byte control limit.
    public static func encodeClose(code: WebSocketCloseCode, reason: String) -> [UInt8] {
        var payload: [UInt8] = [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)]
        var reasonBytes = Array(reason.utf8.prefix(123))
        // Never cut a UTF-8 sequence in half: drop trailing continuation bytes and their lead byte.
        while let last = reasonBytes.last, String(validating: reasonBytes, as: UTF8.self) == nil, last & 0x80 != 0 {
            reasonBytes.removeLast()
        }
        payload.append(contentsOf: reasonBytes)
        return encode(opcode: .close, payload: payload)
    }
}
