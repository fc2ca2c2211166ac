// libFuzzer entry point for the HTTP request parser and the WebSocket frame decoder.
// Compiled together with the parser sources only (see run.sh); no Foundation, no sockets.
//
// Byte 0 picks the target (even: HTTP, odd: WebSocket); byte 1 picks the piece size the input is
// fed in, so the incremental paths (resumed head scans, split chunks, partial frames) are covered.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 2 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data + 2, count: size - 2))
    let pieceSize = Int(data[1]) + 1
    if data[0] & 1 == 0 {
        fuzzHTTP(input, pieceSize: pieceSize)
    } else {
        fuzzWebSocket(input, pieceSize: pieceSize)
    }
    return 0
}

private func fuzzHTTP(_ input: [UInt8], pieceSize: Int) {
    var limits = HTTPParserLimits()
    limits.maxBodyBytes = 4096
    limits.maxRequestLineBytes = 512
    limits.maxHeaderBytes = 2048
    limits.maxHeaderCount = 16
    var parser = HTTPRequestParser(limits: limits)
    var pending: [UInt8] = []
    var position = 0
    while position < input.count {
        pending.append(contentsOf: input[position..<min(input.count, position + pieceSize)])
        position += pieceSize
        while true {
            var step: HTTPRequestParser.Step?
            var failed = false
            pending.withUnsafeBytes { buffer in
                do { step = try parser.parse(buffer) } catch { failed = true }
            }
            if failed { return }
            guard let step else { return }
            precondition(step.consumed >= 0 && step.consumed <= pending.count, "parser consumed more than it was given")
            if case .message(_, let body)? = step.event {
                precondition(body.count <= limits.maxBodyBytes, "body over the limit was accepted")
            }
            pending.removeFirst(step.consumed)
            // Bounded memory: unconsumed bytes never exceed what the limits allow.
            precondition(pending.count <= limits.maxRequestLineBytes + limits.maxHeaderBytes + pieceSize + 4096,
                         "parser let unconsumed input grow past its limits")
            if step.consumed == 0 && step.event == nil { break }
        }
    }
}

private func fuzzWebSocket(_ input: [UInt8], pieceSize: Int) {
    var assembler = WebSocketMessageAssembler(maxMessageBytes: 8192)
    var pending: [UInt8] = []
    var position = 0
    while position < input.count {
        pending.append(contentsOf: input[position..<min(input.count, position + pieceSize)])
        position += pieceSize
        while true {
            var decoded: (WebSocketFrame, Int)?
            var failed = false
            pending.withUnsafeBytes { buffer in
                do { decoded = try WebSocketFrameCodec.decode(buffer, maxPayloadBytes: 4096) } catch { failed = true }
            }
            if failed { return }
            guard let (frame, used) = decoded else { break }
            precondition(used > 0 && used <= pending.count, "decoder consumed an impossible count")
            precondition(frame.payload.count <= 4096, "frame over the limit was accepted")
            pending.removeFirst(used)
            do {
                if case .text(let text)? = try assembler.push(frame) {
                    precondition(text.utf8.count <= 8192, "message over the limit was accepted")
                }
            } catch {
                return
            }
        }
    }
}
