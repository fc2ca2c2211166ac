import Foundation
import Glibc

/// A minimal blocking HTTP/1.1 client for the demo feeder to post to its own daemon over a real socket
/// (so the demo exercises exactly the path a collector uses: auth, rate limit, validation, commit).
public enum LoopbackHTTPClient {
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    /// Sends one request with `Connection: close` and returns the status code and body.
    public static func send(host: String = "127.0.0.1", port: Int, method: String, path: String,
                            headers: [String: String] = [:], body: [UInt8] = []) throws -> (status: Int, body: [UInt8]) {
        let reply = try exchange(host: host, port: port, method: method, path: path, headers: headers, body: body)
        return (reply.status, reply.body)
    }

    /// Like ``send(host:port:method:path:headers:body:)``, with the response's header fields (in order received).
    public static func exchange(host: String = "127.0.0.1", port: Int, method: String, path: String,
                                headers: [String: String] = [:], body: [UInt8] = [])
        throws -> (status: Int, headers: [(name: String, value: String)], body: [UInt8])
    {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        defer { close(fd) }
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            throw Failure(description: "cannot connect to \(host):\(port): \(String(cString: strerror(errno)))")
        }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let request = Array(head.utf8) + body
        var offset = 0
        while offset < request.count {
            let n = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, request.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "send failed: \(String(cString: strerror(errno)))") }
            offset += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            response.append(contentsOf: buffer[0..<n])
        }
        guard let split = response.indices.first(where: { i in
            i + 3 < response.count && response[i] == 13 && response[i + 1] == 10 && response[i + 2] == 13 && response[i + 3] == 10
        }) else { throw Failure(description: "malformed response") }
        let statusLine = String(decoding: response[0..<(response.firstIndex(of: 13) ?? 0)], as: UTF8.self)
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw Failure(description: "malformed status line") }
        let fields = String(decoding: response[0..<split], as: UTF8.self).components(separatedBy: "\r\n").dropFirst()
            .compactMap { line -> (name: String, value: String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
        return (status, Array(fields), Array(response[(split + 4)...]))
    }
}
