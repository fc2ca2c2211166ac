import COpenSSL

/// HMAC-SHA-256 through libcrypto (HS256 signatures), and a constant-time byte comparison.
enum HMACSHA256 {
    static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { k in
            HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), message, message.count, &output, &length)
        }
        precondition(result != nil && length == 32, "HMAC(SHA-256) failed")
        return Array(output.prefix(32))
    }
}

/// `CRYPTO_memcmp`: equal-length comparison whose time does not depend on where the bytes differ.
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
}
