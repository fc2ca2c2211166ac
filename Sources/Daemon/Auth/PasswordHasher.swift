import COpenSSL
import Foundation

/// Password hashes with PBKDF2-HMAC-SHA-256 (`PKCS5_PBKDF2_HMAC`), a 16-byte random salt per hash, and a
/// constant-time comparison. Stored as `pbkdf2_sha256$<iterations>$<salt b64url>$<hash b64url>`, so the
/// iteration count can be raised later without breaking existing hashes.
public struct PasswordHasher: Sendable {
    /// OWASP's 2023 figure for PBKDF2-HMAC-SHA-256 is 600,000; tests lower it to stay fast.
    public var iterations: Int

    public init(iterations: Int = 600_000) { self.iterations = iterations }

    public func hash(_ password: String) -> String {
        let salt = randomBytes(16)
        let derived = Self.derive(password, salt: salt, iterations: iterations)
        return "pbkdf2_sha256$\(iterations)$\(Base64URL.encode(salt))$\(Base64URL.encode(derived))"
    }

    /// True when `password` matches `stored`; false for any malformed stored value.
    public func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$")
        guard parts.count == 4, parts[0] == "pbkdf2_sha256", let rounds = Int(parts[1]), rounds > 0, rounds <= 10_000_000,
              let salt = Base64URL.decode(parts[2]), let expected = Base64URL.decode(parts[3]), expected.count == 32 else { return false }
        return constantTimeEquals(Self.derive(password, salt: salt, iterations: rounds), expected)
    }

    static func derive(_ password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        let bytes = Array(password.utf8)
        let ok = bytes.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { chars in
                PKCS5_PBKDF2_HMAC(chars.baseAddress, Int32(chars.count), salt, Int32(salt.count), Int32(iterations),
                                  EVP_sha256(), 32, &output)
            }
        }
        precondition(ok == 1, "PKCS5_PBKDF2_HMAC failed")
        return output
    }
}

/// Cryptographically secure random bytes (`RAND_bytes`).
public func randomBytes(_ count: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    precondition(RAND_bytes(&bytes, Int32(count)) == 1, "RAND_bytes failed")
    return bytes
}
