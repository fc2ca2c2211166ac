/// Serialises response heads. Status lines for common codes are built once.
enum ResponseEncoder {
    private static let statusLines: [Int: [UInt8]] = {
        var lines: [Int: [UInt8]] = [:]
        for code in [100, 101, 200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405, 408, 409, 413, 415, 417,
                     422, 426, 429, 431, 500, 501, 503, 505] {
            lines[code] = Array("HTTP/1.1 \(code) \(HTTPStatus.standardReason(for: code))\r\n".utf8)
        }
        return lines
    }()

    static let continueLine: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Head and (unless `omitBody`) body in one buffer when the body is small, else head only.
    /// - Returns: the bytes to queue, and the body when it should be queued as its own chunk.
    static func encode(_ response: Response, dateLine: [UInt8], keepAlive: Bool, http10: Bool,
                       omitBody: Bool) -> (head: [UInt8], separateBody: [UInt8]?) {
        var output: [UInt8] = []
        let inlineBody = !omitBody && response.body.count < OutboundQueue.coalesceLimit
        output.reserveCapacity(160 + response.headers.count * 40 + (inlineBody ? response.body.count : 0))
        let status = response.status
        if status.reasonPhrase == HTTPStatus.standardReason(for: status.code), let line = statusLines[status.code] {
            output.append(contentsOf: line)
        } else {
            output.append(contentsOf: "HTTP/1.1 \(status.code) \(sanitized(status.reasonPhrase))\r\n".utf8)
        }
        for field in response.headers {
            // The server owns framing headers; a handler's copy would risk a second, conflicting one.
            if HTTPHeaders.namesEqual(field.name, "Content-Length") || HTTPHeaders.namesEqual(field.name, "Connection")
                || HTTPHeaders.namesEqual(field.name, "Transfer-Encoding") {
                if status.code != 101 || !HTTPHeaders.namesEqual(field.name, "Connection") { continue }
            }
            output.append(contentsOf: sanitized(field.name).utf8)
            output.append(0x3A)
            output.append(0x20)
            output.append(contentsOf: sanitized(field.value).utf8)
            output.append(0x0D)
            output.append(0x0A)
        }
        let hasNoBody = status.code < 200 || status.code == 204 || status.code == 304
        if !hasNoBody {
            output.append(contentsOf: "Content-Length: ".utf8)
            output.append(contentsOf: String(response.body.count).utf8)
            output.append(0x0D)
            output.append(0x0A)
        }
        if status.code != 101 {
            if !keepAlive {
                output.append(contentsOf: "Connection: close\r\n".utf8)
            } else if http10 {
                output.append(contentsOf: "Connection: keep-alive\r\n".utf8)
            }
        }
        output.append(contentsOf: dateLine)
        output.append(0x0D)
        output.append(0x0A)
        if hasNoBody || omitBody { return (output, nil) }
        if inlineBody {
            output.append(contentsOf: response.body)
            return (output, nil)
        }
        return (output, response.body)
    }

    /// Header injection guard: CR and LF never reach the wire from a handler's strings.
    @inline(__always)
    private static func sanitized(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) else { return text }
        return String(text.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : $0 })
    }
}
