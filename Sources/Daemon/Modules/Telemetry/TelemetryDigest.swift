import COpenSSL
import Foundation

/// SHA-256 through libcrypto's EVP interface, streaming files in 1 MiB reads.
enum TelemetryDigest {
    struct FileDigest: Sendable {
        var hex: String
        var bytes: Int
    }

    enum Failure: Error, CustomStringConvertible {
        case unreadable(String)
        case digest
        var description: String {
            switch self {
            case .unreadable(let path): "cannot read \(path)"
            case .digest: "EVP SHA-256 failed"
            }
        }
    }

    static func sha256(file path: String) throws -> FileDigest {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Failure.unreadable(path) }
        defer { try? handle.close() }
        let context = try Context()
        var total = 0
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            try context.update(chunk)
            total += chunk.count
        }
        return FileDigest(hex: try context.finish(), bytes: total)
    }

    static func sha256(_ data: Data) throws -> String {
        let context = try Context()
        try context.update(data)
        return try context.finish()
    }

    private final class Context {
        let ctx: OpaquePointer
        init() throws {
            guard let ctx = EVP_MD_CTX_new() else { throw Failure.digest }
            self.ctx = ctx
            guard EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else { throw Failure.digest }
        }
        deinit { EVP_MD_CTX_free(ctx) }
        func update(_ data: Data) throws {
            let ok = data.withUnsafeBytes { EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) }
            guard ok == 1 else { throw Failure.digest }
        }
        func finish() throws -> String {
            var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            guard EVP_DigestFinal_ex(ctx, &digest, &length) == 1 else { throw Failure.digest }
            return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
        }
    }
}
