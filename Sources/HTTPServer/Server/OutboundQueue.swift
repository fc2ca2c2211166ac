import CLinux
import Glibc

/// Bytes waiting to be written to one socket, as a queue of chunks.
///
/// Small writes are coalesced into the last chunk; a large body stays its own chunk and goes out
/// together with its head in one `writev`, so it is never copied.
struct OutboundQueue {
    private var chunks: [[UInt8]] = []
    private var offset = 0
    private(set) var byteCount = 0

    enum WriteResult {
        case complete
        case wouldBlock(progressed: Bool)
        case failed(Int32)
    }

    static let coalesceLimit = 16 * 1024

    var isEmpty: Bool { byteCount == 0 }

    mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        byteCount += bytes.count
        let firstWritable = offset > 0 ? 1 : 0
        let small = bytes.count < Self.coalesceLimit
        if small && chunks.count > firstWritable && chunks[chunks.count - 1].count + bytes.count <= Self.coalesceLimit {
            chunks[chunks.count - 1].append(contentsOf: bytes)
        } else {
            chunks.append(bytes)
        }
    }

    mutating func removeAll() {
        chunks = []
        offset = 0
        byteCount = 0
    }

    /// Writes as much as the socket takes.
    mutating func write(to fd: Int32) -> WriteResult {
        var progressed = false
        while !chunks.isEmpty {
            let written: Int
            if chunks.count >= 2 {
                written = chunks[0].withUnsafeBytes { first in
                    chunks[1].withUnsafeBytes { second in
                        var vectors = [
                            iovec(iov_base: UnsafeMutableRawPointer(mutating: first.baseAddress! + offset),
                                  iov_len: first.count - offset),
                            iovec(iov_base: UnsafeMutableRawPointer(mutating: second.baseAddress!), iov_len: second.count),
                        ]
                        return argus_writev_nosignal(fd, &vectors, 2)
                    }
                }
            } else {
                written = chunks[0].withUnsafeBytes { first in
                    send(fd, first.baseAddress! + offset, first.count - offset, Int32(MSG_NOSIGNAL))
                }
            }
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock(progressed: progressed) }
                return .failed(code)
            }
            progressed = progressed || written > 0
            consume(written)
        }
        return .complete
    }

    private mutating func consume(_ count: Int) {
        var remaining = count
        byteCount -= count
        while remaining > 0 {
            let available = chunks[0].count - offset
            if remaining >= available {
                remaining -= available
                chunks.removeFirst()
                offset = 0
            } else {
                offset += remaining
                remaining = 0
            }
        }
        if chunks.isEmpty { chunks = [] }
    }
}
