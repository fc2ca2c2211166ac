import Foundation
import Glibc

/// Where the collector posts: `http://HOST:PORT[/prefix]` (plain HTTP: put the daemon on loopback or a
/// private network, or terminate TLS in front of it — docs/collector.md).
public struct FeedEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// Path prefix before `/feed/data` (empty for a daemon at the root).
    public var prefix: String

    public struct Invalid: Error, CustomStringConvertible { public var description: String }

    public init(url text: String) throws {
        guard text.hasPrefix("http://") else {
            throw Invalid(description: "'\(text)' is not an http:// URL (https is not supported by the collector; see docs/collector.md)")
        }
        let rest = text.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        while path.hasSuffix("/") { path.removeLast() }
        var host = String(authority), port = 80
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {          // [::1]:8000
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { guard let p = Int(after.dropFirst()) else { throw Invalid(description: "bad port in '\(text)'") }; port = p }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = Int(authority[authority.index(after: colon)...]) else { throw Invalid(description: "bad port in '\(text)'") }
            port = p
        }
        guard !host.isEmpty, (1...65_535).contains(port) else { throw Invalid(description: "'\(text)' needs a host and a port in 1…65535") }
        self.host = host
        self.port = port
        self.prefix = path
    }
}

/// What became of one POST.
public enum SendOutcome: Sendable, Equatable {
    /// The daemon answered (any status); `retryAfter` is `Retry-After` in seconds when present.
    case answered(status: Int, body: [UInt8], retryAfter: Double?)
    /// Nothing reached the daemon (no connection): safe to resend.
    case notSent(String)
    /// The request went out but no complete answer came back: the daemon may or may not have stored it.
    case uncertain(String)
}

/// Posts one body to `POST /feed/data`. A protocol so tests can lose answers on purpose.
public protocol FeedSending: Sendable {
    func post(_ body: [UInt8]) -> SendOutcome
}

/// A blocking HTTP/1.1 client: one connection per request (`Connection: close`), `timeout` on connect,
/// each send and each receive.
public struct HTTPFeedSender: FeedSending {
    public var endpoint: FeedEndpoint
    public var apiKey: String
    public var timeoutSeconds: Double

    public init(endpoint: FeedEndpoint, apiKey: String, timeoutSeconds: Double = 15) {
        self.endpoint = endpoint
        self.apiKey = apiKey
        self.timeoutSeconds = timeoutSeconds
    }

    public func post(_ body: [UInt8]) -> SendOutcome {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(endpoint.host, String(endpoint.port), &hints, &result) == 0, let info = result else {
            return .notSent("cannot resolve \(endpoint.host)")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
        guard fd >= 0 else { return .notSent("socket(): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: Int(timeoutSeconds), tv_usec: Int(timeoutSeconds.truncatingRemainder(dividingBy: 1) * 1e6))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))   // bounds connect() too
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            return .notSent("cannot connect to \(endpoint.host):\(endpoint.port): \(String(cString: strerror(errno)))")
        }
        let head = "POST \(endpoint.prefix)/feed/data HTTP/1.1\r\nHost: \(endpoint.host):\(endpoint.port)\r\nConnection: close\r\n"
            + "Content-Type: application/json\r\nX-API-Key: \(apiKey)\r\nContent-Length: \(body.count)\r\n\r\n"
        let request = Array(head.utf8) + body
        var offset = 0
        while offset < request.count {
            let n = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, request.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            // Part of the request may have been read by the daemon: only "nothing sent at all" is certain.
            guard n > 0 else { return offset == 0 ? .notSent("send failed") : .uncertain("send failed: \(String(cString: strerror(errno)))") }
            offset += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return .uncertain("no answer: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            response.append(contentsOf: buffer[0..<n])
        }
        return Self.parse(response)
    }

    /// Status, body and Retry-After of a complete `Connection: close` response; `.uncertain` when cut short.
    static func parse(_ response: [UInt8]) -> SendOutcome {
        guard let split = response.indices.first(where: { i in
            i + 3 < response.count && response[i] == 13 && response[i + 1] == 10 && response[i + 2] == 13 && response[i + 3] == 10
        }) else { return .uncertain("connection closed before a complete answer") }
        let head = String(decoding: response[0..<split], as: UTF8.self).split(separator: "\r\n")
        let statusParts = head.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return .uncertain("malformed status line") }
        var retryAfter: Double?
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased(), value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "retry-after" { retryAfter = Double(value) }
        }
        // The status line is the daemon's verdict (2xx = committed), even if the body was cut short.
        return .answered(status: status, body: Array(response[(split + 4)...]), retryAfter: retryAfter)
    }
}
