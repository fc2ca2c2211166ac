import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's RS256 key pair: generated once (`EVP_PKEY_generate`, 2048 bits) and kept as PKCS#8 PEM in
/// `<data-dir>/auth/jwt_rs256.pem`, mode 0600 inside a 0700 folder. Written to a temporary file created
/// 0600 with `O_EXCL`, fsync'ed and renamed, so a crash never leaves a half key or a readable one.
enum SigningKeyFile {
    static func loadOrCreate(at url: URL) throws -> RSAKey {
        if FileManager.default.fileExists(atPath: url.path) {
            return try RSAKey(privateKeyPEM: String(contentsOf: url, encoding: .utf8))
        }
        let key = try RSAKey.generate(bits: 2048)
        try writeSecret(Array(try key.privateKeyPEM().utf8), to: url)
        return key
    }

    /// Writes `bytes` to `url` with mode 0600 (atomically: temp file, fsync, rename).
    static func writeSecret(_ bytes: [UInt8], to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        unlink(temporary.path)
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary.path]) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            guard n > 0 else { close(fd); throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path]) }
            written += n
        }
        guard fsync(fd) == 0, close(fd) == 0, rename(temporary.path, url.path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    }
}
