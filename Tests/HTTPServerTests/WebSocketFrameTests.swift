import Testing
@testable import HTTPServer

private func maskedFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, mask: [UInt8] = [1, 2, 3, 4],
                         rsv: UInt8 = 0) -> [UInt8] {
    var frame: [UInt8] = [(fin ? 0x80 : 0) | rsv | opcode]
    if payload.count < 126 {
        frame.append(0x80 | UInt8(payload.count))
    } else if payload.count <= 0xFFFF {
        frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
    } else {
        frame.append(0x80 | 127)
        for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> shift) & 0xFF)) }
    }
    frame += mask
    frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    return frame
}

private func decode(_ bytes: [UInt8], max: Int = 1 << 16) throws(WebSocketProtocolError) -> (WebSocketFrame, Int)? {
    var result: Result<(WebSocketFrame, Int)?, WebSocketProtocolError> = .success(nil)
    bytes.withUnsafeBytes { buffer in
        do { result = .success(try WebSocketFrameCodec.decode(buffer, maxPayloadBytes: max)) } catch let error as WebSocketProtocolError { result = .failure(error) } catch {}
    }
    return try result.get()
}

struct WebSocketFrameTests {
    @Test func acceptValue_MatchesRFC6455Example() {
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(WebSocketHandshake.isValidKey("dGhlIHNhbXBsZSBub25jZQ=="))
        #expect(!WebSocketHandshake.isValidKey("short"))
    }

    @Test func maskedFrame_IsUnmasked_AtEveryLengthEncoding() throws {
        for length in [0, 5, 125, 126, 1000, 65535, 65536] {
            let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 7) }
            let bytes = maskedFrame(0x2, payload, mask: [0xA1, 0xB2, 0xC3, 0xD4])
            let (frame, used) = try #require(try decode(bytes, max: 1 << 20))
            #expect(frame.payload == payload)
            #expect(used == bytes.count)
            #expect(try decode(Array(bytes.dropLast())) == nil || length == 0)
        }
    }

    @Test func partialHeader_NeedsMoreBytes() throws {
        let bytes = maskedFrame(0x1, Array("hello".utf8))
        for cut in 0..<bytes.count { #expect(try decode(Array(bytes[0..<cut])) == nil) }
    }

    @Test func violations_CloseWithTheRightCode() {
        func code(_ bytes: [UInt8], max: Int = 1 << 16) -> UInt16? {
            do { _ = try decode(bytes, max: max); return nil } catch { return error.closeCode.rawValue }
        }
        #expect(code([0x81, 0x05] + Array("hello".utf8)) == 1002)                        // unmasked
        #expect(code(maskedFrame(0x1, [1], rsv: 0x40)) == 1002)                           // RSV1 without extension
        #expect(code(maskedFrame(0x3, [1])) == 1002)                                      // reserved opcode
        #expect(code(maskedFrame(0x9, [1], fin: false)) == 1002)                          // fragmented ping
        #expect(code(maskedFrame(0x9, [UInt8](repeating: 0, count: 126))) == 1002)         // control > 125
        #expect(code(maskedFrame(0x2, [UInt8](repeating: 0, count: 200)), max: 100) == 1009)
        #expect(code([0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0]) == 1002)                    // 64-bit length MSB set
        // A huge declared length is refused from the header alone.
        #expect(code([0x82, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0], max: 1 << 20) == 1009)
    }

    @Test func serverFrames_AreUnmaskedAndRoundTrip() throws {
        let encoded = WebSocketFrameCodec.encode(opcode: .text, payload: Array("hi".utf8))
        #expect(encoded == [0x81, 0x02, 0x68, 0x69])
        let big = WebSocketFrameCodec.encode(opcode: .binary, payload: [UInt8](repeating: 9, count: 70_000))
        let (frame, _) = try #require(try big.withUnsafeBytes { buffer in
            try WebSocketFrameCodec.decode(buffer, maxPayloadBytes: 1 << 20, requireMask: false)
        })
        #expect(frame.payload.count == 70_000)
        let close = WebSocketFrameCodec.encodeClose(code: .goingAway, reason: String(repeating: "é", count: 100))
        #expect(close.count <= 127)
        #expect(String(validating: close[4...], as: UTF8.self) != nil)
    }

    @Test func fragments_AreReassembled_AndControlFramesInterleave() throws {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 100)
        #expect(try assembler.push(WebSocketFrame(fin: false, opcode: .text, payload: Array("hel".utf8))) == nil)
        #expect(try assembler.push(WebSocketFrame(opcode: .ping, payload: [1])) == .ping([1]))
        #expect(try assembler.push(WebSocketFrame(fin: false, opcode: .continuation, payload: Array("lo ".utf8))) == nil)
        #expect(try assembler.push(WebSocketFrame(fin: true, opcode: .continuation, payload: Array("you".utf8))) == .text("hello you"))
    }

    @Test func assemblerViolations_CloseWithTheRightCode() {
        func code(_ frames: [WebSocketFrame], max: Int = 100) -> UInt16? {
            var assembler = WebSocketMessageAssembler(maxMessageBytes: max)
            do {
                for frame in frames { _ = try assembler.push(frame) }
                return nil
            } catch {
                return error.closeCode.rawValue
            }
        }
        #expect(code([WebSocketFrame(opcode: .continuation, payload: [1])]) == 1002)
        #expect(code([WebSocketFrame(fin: false, opcode: .text, payload: [0x61]), WebSocketFrame(opcode: .text, payload: [0x61])]) == 1002)
        #expect(code([WebSocketFrame(opcode: .text, payload: [0xC3, 0x28])]) == 1007)
        // A multi-byte character split across fragments is fine; the joined message is checked.
        #expect(code([WebSocketFrame(fin: false, opcode: .text, payload: [0xC3]), WebSocketFrame(opcode: .continuation, payload: [0xA9])]) == nil)
        #expect(code([WebSocketFrame(fin: false, opcode: .binary, payload: [UInt8](repeating: 0, count: 60)),
                      WebSocketFrame(opcode: .continuation, payload: [UInt8](repeating: 0, count: 60))]) == 1009)
        #expect(code([WebSocketFrame(opcode: .close, payload: [0x03])]) == 1002)
        #expect(code([WebSocketFrame(opcode: .close, payload: [0x03, 0xED])]) == 1002)           // 1005 may not be sent
        #expect(code([WebSocketFrame(opcode: .close, payload: [0x03, 0xE8, 0xFF])]) == 1007)     // reason not UTF-8
        #expect(code([WebSocketFrame(opcode: .close, payload: [0x0F, 0xA0])]) == nil)             // 4000 is allowed
    }
}
