import Foundation
import Glibc

/// Relative artifact paths, checked the way the original checked `?path=` (decoded twice, then no `..`, no
/// absolute or drive-letter paths, no empty or dot components) and normalised to `a/b/c`.
enum ArtifactPath {
    static let maxLength = 512

    /// The normalised path, or nil when the path could escape its run or is malformed.
    static func normalize(_ raw: String) -> String? {
        // Decode twice: `%252e%252e` is `..` after two rounds (the URL-encoded bypass the spec names).
        var text = raw
        for _ in 0..<2 { text = text.removingPercentEncoding ?? text }
        guard !text.isEmpty, text.utf8.count <= maxLength, !text.contains(".."), !text.hasPrefix("/"),
              !text.contains("\\"), !text.utf8.contains(0) else { return nil }
        let bytes = Array(text.utf8)
        if bytes.count >= 2 && bytes[1] == UInt8(ascii: ":") { return nil }   // C:foo, C:/foo
        let components = text.split(separator: "/", omittingEmptySubsequences: false)
        guard components.allSatisfy({ !$0.isEmpty && $0 != "." && !$0.hasPrefix("..") && $0.utf8.count <= 255 }) else {
            return nil
        }
        guard !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        return components.joined(separator: "/")
    }
}

/// Content-addressed blobs under `<data-dir>/autopack/blobs/<2 hex>/<sha256>`. A blob is written to a
/// temporary file, fsynced and renamed into place, so a crash never leaves a half blob under its digest;
/// reads recompute the SHA-256 and refuse a blob whose bytes changed on disk.
final class ArtifactStore: Sendable {
    struct Corrupted: Error, CustomStringConvertible {
        let sha256: String
        var description: String { "artifact blob \(sha256) failed its SHA-256 check" }
    }

    let directory: URL

    init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// SHA-256 (the auth core's libcrypto helper) as 64 hex characters.
    static func sha256Hex(_ bytes: [UInt8]) -> String { sha256(bytes).map { String(format: "%02x", $0) }.joined() }

    func url(for sha256: String) -> URL {
        directory.appendingPathComponent(String(sha256.prefix(2)), isDirectory: true).appendingPathComponent(sha256)
    }

    /// Stores `bytes` durably and returns their SHA-256 (hex). Storing the same bytes twice is a no-op.
    @discardableResult
    func put(_ bytes: [UInt8]) throws -> String {
        let sha = Self.sha256Hex(bytes)
        let target = url(for: sha)
        if FileManager.default.fileExists(atPath: target.path) { return sha }
        let folder = target.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(sha).\(UUID().uuidString).tmp").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { close(fd); unlink(temporary); throw POSIXError(.EIO) }
            offset += n
        }
        guard fsync(fd) == 0 else { close(fd); unlink(temporary); throw POSIXError(.EIO) }
        close(fd)
        guard rename(temporary, target.path) == 0 else { unlink(temporary); throw POSIXError(.EIO) }
        let dirFD = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
        return sha
    }

    /// The blob's bytes, verified against `sha256`; throws ``Corrupted`` when they do not match.
    func read(_ sha256: String) throws -> [UInt8] {
        let bytes = Array(try Data(contentsOf: url(for: sha256)))
        guard Self.sha256Hex(bytes) == sha256 else { throw Corrupted(sha256: sha256) }
        return bytes
    }
}
