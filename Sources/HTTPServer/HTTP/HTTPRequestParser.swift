/// An incremental HTTP/1.1 request parser (RFC 9112) over raw bytes.
///
/// Feed it the unconsumed bytes of a connection; it reports how many it consumed and, when it has
/// one, an event. Head bytes are consumed only once the whole head is present (the scan position
/// is remembered, so a slow client dribbling bytes costs linear time); body bytes are consumed and
/// copied as they arrive. Every limit is checked while bytes arrive, never after buffering them.
///
/// The parser is strict where leniency enables request smuggling: bare LF, obs-fold, whitespace
/// before the colon, Content-Length together with Transfer-Encoding, differing Content-Length
/// values and a non-final `chunked` are all rejected.
///
/// It only uses the standard library so the fuzzer can compile it on its own (`fuzz/run.sh`).
public struct HTTPRequestParser {
    public enum Event {
        /// The head of a request with a body; the body follows. Lets the server answer
        /// `Expect: 100-continue` before the client sends it.
        case head(HTTPRequestHead)
        /// A complete request.
        case message(HTTPRequestHead, body: [UInt8])
    }

    public struct Step {
        public var consumed: Int
        public var event: Event?
    }

    private struct HeadScan {
        var scanned = 0
        var requestLineEnd = -1
        var lineStart = 0
        var fieldCount = 0
    }

    private enum State {
        case head(HeadScan)
        case fixedBody(HTTPRequestHead, remaining: Int)
        case chunkSize(HTTPRequestHead)
        case chunkData(HTTPRequestHead, remaining: Int)
        case chunkDataEnd(HTTPRequestHead)
        case trailers(HTTPRequestHead, bytes: Int, count: Int)
        case failed(HTTPParseError)
    }

    public let limits: HTTPParserLimits
    private var state: State = .head(HeadScan())
    private var body: [UInt8] = []

    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
    }

    /// True between messages: no byte of the next request has been examined yet.
    public var isAtMessageStart: Bool {
        if case .head(let scan) = state { return scan.scanned == 0 }
        return false
    }

    /// True while the head is complete and body bytes are still expected.
    public var isReadingBody: Bool {
        switch state {
        case .head, .failed: false
        default: true
        }
    }

    /// Parses as far as `buffer` allows. Call again with the unconsumed rest (plus any new bytes)
    /// until a step consumes nothing and yields no event.
    public mutating func parse(_ buffer: UnsafeRawBufferPointer) throws(HTTPParseError) -> Step {
        do {
            return try step(buffer)
        } catch {
            state = .failed(error)
            body = []
            throw error
        }
    }

    private mutating func step(_ buffer: UnsafeRawBufferPointer) throws(HTTPParseError) -> Step {
        switch state {
        case .failed(let error):
            throw error
        case .head(let scan):
            return try parseHead(buffer, scan: scan)
        case .fixedBody(let head, let remaining):
            guard !buffer.isEmpty else { return Step(consumed: 0) }
            let take = min(remaining, buffer.count)
            body.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<take]))
            if remaining == take {
                return Step(consumed: take, event: finishMessage(head))
            }
            state = .fixedBody(head, remaining: remaining - take)
            return Step(consumed: take)
        case .chunkSize(let head):
            return try parseChunkSize(buffer, head: head)
        case .chunkData(let head, let remaining):
            guard !buffer.isEmpty else { return Step(consumed: 0) }
            let take = min(remaining, buffer.count)
            body.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<take]))
            state = remaining == take ? .chunkDataEnd(head) : .chunkData(head, remaining: remaining - take)
            return Step(consumed: take)
        case .chunkDataEnd(let head):
            // RFC 9112 §7.1: chunk-data is followed by exactly CRLF.
            if buffer.count >= 1, buffer[0] != Byte.cr { throw .malformedChunk("missing CRLF after chunk data") }
            guard buffer.count >= 2 else { return Step(consumed: 0) }
            guard buffer[1] == Byte.lf else { throw .malformedChunk("missing CRLF after chunk data") }
            state = .chunkSize(head)
            return Step(consumed: 2)
        case .trailers(let head, let bytes, let count):
            return try parseTrailer(buffer, head: head, bytes: bytes, count: count)
        }
    }

    private mutating func finishMessage(_ head: HTTPRequestHead) -> Event {
        let message = Event.message(head, body: body)
        body = []
        state = .head(HeadScan())
        return message
    }

    // MARK: - Head

    private mutating func parseHead(_ buffer: UnsafeRawBufferPointer, scan: HeadScan) throws(HTTPParseError) -> Step {
        var scan = scan
        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
        if scan.scanned == 0, buffer.count >= 2, buffer[0] == Byte.cr, buffer[1] == Byte.lf {
            return Step(consumed: 2)
        }
        var headEnd = -1
        var index = scan.scanned
        while index < buffer.count {
            if buffer[index] == Byte.lf {
                guard index > 0, buffer[index - 1] == Byte.cr else { throw .malformedHeader("bare LF") }
                if scan.requestLineEnd < 0 {
                    guard index + 1 <= limits.maxRequestLineBytes else {
                        throw .requestLineTooLong(limit: limits.maxRequestLineBytes)
                    }
                    scan.requestLineEnd = index
                } else if index - scan.lineStart == 1 {
                    headEnd = index + 1
                    break
                } else {
                    scan.fieldCount += 1
                    guard scan.fieldCount <= limits.maxHeaderCount else {
                        throw .tooManyHeaders(limit: limits.maxHeaderCount)
                    }
                }
                scan.lineStart = index + 1
            }
            index += 1
        }
        if scan.requestLineEnd < 0 {
            guard buffer.count <= limits.maxRequestLineBytes else {
                throw .requestLineTooLong(limit: limits.maxRequestLineBytes)
            }
        } else {
            let headerBytes = (headEnd < 0 ? buffer.count : headEnd) - (scan.requestLineEnd + 1)
            guard headerBytes <= limits.maxHeaderBytes else { throw .headersTooLarge(limit: limits.maxHeaderBytes) }
        }
        guard headEnd > 0 else {
            scan.scanned = buffer.count
            state = .head(scan)
            return Step(consumed: 0)
        }

        let head = try makeHead(buffer, requestLineEnd: scan.requestLineEnd, headEnd: headEnd)
        switch head.framing {
        case .none:
            body = []
            return Step(consumed: headEnd, event: finishMessage(head))
        case .contentLength(let length):
            body = []
            body.reserveCapacity(length)
            state = .fixedBody(head, remaining: length)
        case .chunked:
            body = []
            state = .chunkSize(head)
        }
        return Step(consumed: headEnd, event: .head(head))
    }

    private func makeHead(_ buffer: UnsafeRawBufferPointer, requestLineEnd: Int,
                          headEnd: Int) throws(HTTPParseError) -> HTTPRequestHead {
        let line = UnsafeRawBufferPointer(rebasing: buffer[0..<(requestLineEnd - 1)])
        let (method, target, version) = try Self.parseRequestLine(line)
        let (path, query) = try Self.splitTarget(target, method: method)

        var headers = HTTPHeaders()
        headers.fields.reserveCapacity(8)
        var contentLength: Int?
        var transferCodings: [String] = []
        var hasTransferEncoding = false
        var hostCount = 0
        var closeRequested = false
        var keepAliveRequested = false
        var expectsContinue = false

        var lineStart = requestLineEnd + 1
        while lineStart < headEnd - 2 {
            var lineEnd = lineStart
            while buffer[lineEnd] != Byte.lf { lineEnd += 1 }
            let fieldLine = UnsafeRawBufferPointer(rebasing: buffer[lineStart..<(lineEnd - 1)])
            let (name, value) = try Self.parseFieldLine(fieldLine)
            headers.fields.append((name: name, value: value))
            lineStart = lineEnd + 1

            switch name.utf8.count {
            case 4 where HTTPHeaders.namesEqual(name, "Host"):
                hostCount += 1
            case 6 where HTTPHeaders.namesEqual(name, "Expect"):
                guard HTTPHeaders.namesEqual(value, "100-continue") else { throw .unsupportedExpectation(value) }
                expectsContinue = true
            case 10 where HTTPHeaders.namesEqual(name, "Connection"):
                for token in value.split(separator: ",") {
                    let token = String(token).trimmingOWS()
                    if HTTPHeaders.namesEqual(token, "close") { closeRequested = true }
                    if HTTPHeaders.namesEqual(token, "keep-alive") { keepAliveRequested = true }
                }
            case 14 where HTTPHeaders.namesEqual(name, "Content-Length"):
                // RFC 9110 §8.6: a list of identical values may be folded; anything else is an attack.
                for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                    let length = try Self.parseContentLength(String(part).trimmingOWS())
                    if let existing = contentLength, existing != length { throw .conflictingContentLength }
                    contentLength = length
                }
            case 17 where HTTPHeaders.namesEqual(name, "Transfer-Encoding"):
                hasTransferEncoding = true
                for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                    transferCodings.append(String(part).trimmingOWS())
                }
            default:
                break
            }
        }

        if version == .http1_1 {
            if hostCount == 0 { throw .missingHost }
        }
        if hostCount > 1 { throw .duplicateHost }

        var framing = HTTPRequestHead.BodyFraming.none
        if hasTransferEncoding {
            // RFC 9112 §6.1: CL with TE is a smuggling vector; TE in HTTP/1.0 is faulty framing.
            if contentLength != nil { throw .contentLengthWithTransferEncoding }
            if version == .http1_0 { throw .malformedHeader("Transfer-Encoding in an HTTP/1.0 request") }
            guard let last = transferCodings.last, HTTPHeaders.namesEqual(last, "chunked") else {
                throw .malformedHeader("Transfer-Encoding must end with chunked")
            }
            for coding in transferCodings.dropLast() {
                if HTTPHeaders.namesEqual(coding, "chunked") { throw .malformedHeader("chunked applied twice") }
                throw .unsupportedTransferEncoding(String(coding.prefix(32)))
            }
            framing = .chunked
        } else if let contentLength {
            guard contentLength <= limits.maxBodyBytes else { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
            if contentLength > 0 { framing = .contentLength(contentLength) }
        }

        let keepAlive = version == .http1_1 ? !closeRequested : (keepAliveRequested && !closeRequested)
        return HTTPRequestHead(method: method, target: target, path: path, query: query, version: version,
                               headers: headers, keepAlive: keepAlive,
                               expectsContinue: expectsContinue && version == .http1_1 && framing != .none,
                               framing: framing)
    }

    static func parseRequestLine(_ line: UnsafeRawBufferPointer) throws(HTTPParseError)
        -> (HTTPMethod, String, HTTPVersion) {
        var index = 0
        while index < line.count, Byte.isToken(line[index]) { index += 1 }
        guard index > 0, index < line.count, line[index] == Byte.space else {
            throw .malformedRequestLine("invalid method")
        }
        let method = Self.method(UnsafeRawBufferPointer(rebasing: line[0..<index]))
        let targetStart = index + 1
        index = targetStart
        while index < line.count, line[index] > 0x20, line[index] < 0x7F { index += 1 }
        guard index > targetStart, index < line.count, line[index] == Byte.space else {
            throw .malformedRequestLine("invalid request target")
        }
        let target = String(decoding: UnsafeRawBufferPointer(rebasing: line[targetStart..<index]), as: UTF8.self)
        let versionBytes = UnsafeRawBufferPointer(rebasing: line[(index + 1)...])
        guard versionBytes.count == 8, versionBytes.starts(with: "HTTP/".utf8), versionBytes[6] == Byte.dot,
              Byte.isDigit(versionBytes[5]), Byte.isDigit(versionBytes[7]) else {
            throw .malformedRequestLine("invalid HTTP version")
        }
        let version = HTTPVersion(major: Int(versionBytes[5] - Byte.zero), minor: Int(versionBytes[7] - Byte.zero))
        guard version == .http1_1 || version == .http1_0 else {
            throw .unsupportedVersion(version.description)
        }
        return (method, target, version)
    }

    /// Common methods map to shared constants so the hot path does not build strings for them.
    private static func method(_ bytes: UnsafeRawBufferPointer) -> HTTPMethod {
        switch bytes.count {
        case 3 where bytes.elementsEqual("GET".utf8): .get
        case 3 where bytes.elementsEqual("PUT".utf8): .put
        case 4 where bytes.elementsEqual("POST".utf8): .post
        case 4 where bytes.elementsEqual("HEAD".utf8): .head
        case 6 where bytes.elementsEqual("DELETE".utf8): .delete
        default: HTTPMethod(rawValue: String(decoding: bytes, as: UTF8.self))
        }
    }

    static func splitTarget(_ target: String, method: HTTPMethod) throws(HTTPParseError) -> (String, String?) {
        var rest = Substring(target)
        if target == "*" {
            guard method == .options else { throw .malformedRequestLine("asterisk-form is only valid for OPTIONS") }
            return ("*", nil)
        }
        if !rest.hasPrefix("/") {
            // RFC 9112 §3.2.2: servers accept absolute-form; keep only path and query.
            let lower = rest.prefix(8).lowercased()
            if lower.hasPrefix("http://") {
                rest = rest.dropFirst(7)
            } else if lower.hasPrefix("https://") {
                rest = rest.dropFirst(8)
            } else {
                throw .malformedRequestLine("invalid request target")
            }
            if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) {
                rest = rest[slash...]
                if rest.hasPrefix("?") { return ("/", String(rest.dropFirst())) }
            } else {
                return ("/", nil)
            }
        }
        if let question = rest.firstIndex(of: "?") {
            return (String(rest[..<question]), String(rest[rest.index(after: question)...]))
        }
        return (String(rest), nil)
    }

    static func parseFieldLine(_ line: UnsafeRawBufferPointer) throws(HTTPParseError) -> (String, String) {
        guard let first = line.first else { throw .malformedHeader("empty field line") }
        if first == Byte.space || first == Byte.tab { throw .malformedHeader("obsolete line folding") }
        var colon = 0
        while colon < line.count, Byte.isToken(line[colon]) { colon += 1 }
        guard colon > 0, colon < line.count, line[colon] == Byte.colon else {
            // Covers whitespace between name and colon (RFC 9112 §5.1), which must be rejected.
            throw .malformedHeader("invalid field name")
        }
        var valueStart = colon + 1
        var valueEnd = line.count
        while valueStart < valueEnd, line[valueStart] == Byte.space || line[valueStart] == Byte.tab { valueStart += 1 }
        while valueEnd > valueStart, line[valueEnd - 1] == Byte.space || line[valueEnd - 1] == Byte.tab { valueEnd -= 1 }
        for index in valueStart..<valueEnd {
            let byte = line[index]
            guard byte == Byte.tab || (byte >= 0x20 && byte != 0x7F) else {
                throw .malformedHeader("invalid character in field value")
            }
        }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: line[0..<colon]), as: UTF8.self)
        let value = String(decoding: UnsafeRawBufferPointer(rebasing: line[valueStart..<valueEnd]), as: UTF8.self)
        return (name, value)
    }

    static func parseContentLength(_ text: String) throws(HTTPParseError) -> Int {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy(Byte.isDigit) else {
            throw .invalidContentLength(String(text.prefix(32)))
        }
        var value = 0
        for byte in text.utf8 { value = value * 10 + Int(byte - Byte.zero) }
        return value
    }

    // MARK: - Chunked body (RFC 9112 §7.1)

    private mutating func parseChunkSize(_ buffer: UnsafeRawBufferPointer,
                                         head: HTTPRequestHead) throws(HTTPParseError) -> Step {
        guard let lineFeed = Self.firstLineFeed(buffer, limit: limits.maxChunkLineBytes) else {
            if buffer.count > limits.maxChunkLineBytes { throw .malformedChunk("chunk-size line too long") }
            return Step(consumed: 0)
        }
        guard lineFeed > 0, buffer[lineFeed - 1] == Byte.cr else { throw .malformedChunk("bare LF") }
        var size = 0
        var index = 0
        while index < lineFeed - 1, let digit = Byte.hexValue(buffer[index]) {
            guard index < 15 else { throw .malformedChunk("chunk size too large") }
            size = size << 4 | digit
            index += 1
        }
        guard index > 0 else { throw .malformedChunk("missing chunk size") }
        // Anything after the size must be optional whitespace and a chunk extension, which we ignore.
        while index < lineFeed - 1, buffer[index] == Byte.space || buffer[index] == Byte.tab { index += 1 }
        if index < lineFeed - 1 {
            guard buffer[index] == Byte.semicolon else { throw .malformedChunk("invalid chunk size") }
            for position in index..<(lineFeed - 1) {
                let byte = buffer[position]
                guard byte == Byte.tab || (byte >= 0x20 && byte != 0x7F) else {
                    throw .malformedChunk("invalid chunk extension")
                }
            }
        }
        if size == 0 {
            state = .trailers(head, bytes: 0, count: 0)
        } else {
            guard size <= limits.maxBodyBytes - body.count else { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
            state = .chunkData(head, remaining: size)
        }
        return Step(consumed: lineFeed + 1)
    }

    private mutating func parseTrailer(_ buffer: UnsafeRawBufferPointer, head: HTTPRequestHead, bytes: Int,
                                       count: Int) throws(HTTPParseError) -> Step {
        let remainingBudget = limits.maxHeaderBytes - bytes
        guard let lineFeed = Self.firstLineFeed(buffer, limit: remainingBudget) else {
            if buffer.count > remainingBudget { throw .headersTooLarge(limit: limits.maxHeaderBytes) }
            return Step(consumed: 0)
        }
        guard lineFeed > 0, buffer[lineFeed - 1] == Byte.cr else { throw .malformedChunk("bare LF in trailers") }
        if lineFeed == 1 {
            return Step(consumed: 2, event: finishMessage(head))
        }
        guard count + 1 <= limits.maxHeaderCount else { throw .tooManyHeaders(limit: limits.maxHeaderCount) }
        // Trailer fields are validated like header fields, then dropped: nothing downstream uses them.
        _ = try Self.parseFieldLine(UnsafeRawBufferPointer(rebasing: buffer[0..<(lineFeed - 1)]))
        state = .trailers(head, bytes: bytes + lineFeed + 1, count: count + 1)
        return Step(consumed: lineFeed + 1)
    }

    private static func firstLineFeed(_ buffer: UnsafeRawBufferPointer, limit: Int) -> Int? {
        let end = min(buffer.count, limit + 1)
        var index = 0
        while index < end {
            if buffer[index] == Byte.lf { return index }
            index += 1
        }
        return nil
    }
}

/// Byte constants and classes from RFC 9110 §5.6.2.
enum Byte {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    @inline(__always) static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }

    /// tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    @inline(__always) static func isToken(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true
        default: false
        }
    }
}
