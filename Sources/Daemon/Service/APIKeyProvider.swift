import COpenSSL
import Foundation
import Glibc

/// Where the daemon's API key came from (logged and printed; the key itself never is).
public enum APIKeySource: Sendable, Equatable {
    case environment
    case file(String)
    case generated(String)

    public var description: String {
        switch self {
        case .environment: "environment variable TACHYON_API_KEY"
        case .file(let path): "key file \(path)"
        case .generated(let path): "newly generated key, stored in \(path)"
        }
    }
}

/// Resolves the API key: `TACHYON_API_KEY`, else the key file (`--api-key-file`, default
/// `<data-dir>/api_key`), else a new random key (32 bytes from OpenSSL's `RAND_bytes`, hex) written to the
/// key file with mode 0600 — so the second start finds the same key.
public enum APIKeyProvider {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func resolve(configured: String?, keyFile: URL) throws -> (key: String, source: APIKeySource) {
        if let configured, !configured.isEmpty { return (configured, .environment) }
        let path = keyFile.path
        if FileManager.default.fileExists(atPath: path) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw Failure(description: "cannot read API key file \(path)")
            }
            let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !key.isEmpty else { throw Failure(description: "API key file \(path) is empty") }
            return (key, .file(path))
        }
        let key = try generateKey()
        try FileManager.default.createDirectory(at: keyFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Create with 0600 from the start (no window where the key is world-readable); O_EXCL so two
        // daemons starting together cannot overwrite each other's key.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { return try resolve(configured: nil, keyFile: keyFile) }
            throw Failure(description: "cannot create API key file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array((key + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            unlink(path)
            throw Failure(description: "cannot write API key file \(path)")
        }
        return (key, .generated(path))
    }

    /// 32 random bytes from OpenSSL, as 64 hex characters.
    public static func generateKey() throws -> String {
        var raw = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&raw, Int32(raw.count)) == 1 else { throw Failure(description: "RAND_bytes failed") }
        return raw.map { String(format: "%02x", $0) }.joined()
    }
}
