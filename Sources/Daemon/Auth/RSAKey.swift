import COpenSSL
import Foundation

/// An RSA key held by OpenSSL (`EVP_PKEY`): generated with `EVP_PKEY_generate`, stored as PKCS#8 PEM, and used
/// for RS256 signatures (PKCS#1 v1.5 over SHA-256) through `EVP_DigestSign` / `EVP_DigestVerify`.
/// A key built from a JWK's `n` and `e` is public only and can verify, not sign.
public final class RSAKey: @unchecked Sendable {
    // @unchecked: the EVP_PKEY is never mutated after init; OpenSSL allows concurrent use of a const key.
    let pkey: OpaquePointer
    public let isPrivate: Bool

    private init(pkey: OpaquePointer, isPrivate: Bool) {
        self.pkey = pkey
        self.isPrivate = isPrivate
    }

    deinit { EVP_PKEY_free(pkey) }

    public enum KeyError: Error, CustomStringConvertible {
        case openssl(String)
        public var description: String {
            switch self { case .openssl(let what): "RSA key: \(what) failed: \(RSAKey.lastOpenSSLError())" }
        }
    }

    /// A fresh key pair of `bits` bits (2048 or more for RS256).
    public static func generate(bits: Int32 = 2048) throws -> RSAKey {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else { throw KeyError.openssl("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) == 1 else {
            throw KeyError.openssl("keygen init")
        }
        var key: OpaquePointer?
        guard EVP_PKEY_generate(ctx, &key) == 1, let key else { throw KeyError.openssl("EVP_PKEY_generate") }
        return RSAKey(pkey: key, isPrivate: true)
    }

    /// Reads a private key from PEM (PKCS#8 or PKCS#1).
    public convenience init(privateKeyPEM pem: String) throws {
        let bytes = Array(pem.utf8)
        let key: OpaquePointer? = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key, EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else {
            if let key { EVP_PKEY_free(key) }
            throw KeyError.openssl("PEM_read_bio_PrivateKey (RSA)")
        }
        self.init(pkey: key, isPrivate: true)
    }

    /// A public key from a JWK's big-endian modulus and exponent.
    public convenience init(modulus: [UInt8], exponent: [UInt8]) throws {
        guard let n = BN_bin2bn(modulus, Int32(modulus.count), nil), let e = BN_bin2bn(exponent, Int32(exponent.count), nil) else {
            throw KeyError.openssl("BN_bin2bn")
        }
        defer { BN_free(n); BN_free(e) }
        guard let builder = OSSL_PARAM_BLD_new() else { throw KeyError.openssl("OSSL_PARAM_BLD_new") }
        // The builder keeps the name pointers until OSSL_PARAM_BLD_to_param: they must outlive the push calls.
        let nName = strdup("n"), eName = strdup("e")
        defer { OSSL_PARAM_BLD_free(builder); free(nName); free(eName) }
        guard OSSL_PARAM_BLD_push_BN(builder, nName, n) == 1, OSSL_PARAM_BLD_push_BN(builder, eName, e) == 1,
              let params = OSSL_PARAM_BLD_to_param(builder) else { throw KeyError.openssl("OSSL_PARAM_BLD") }
        defer { OSSL_PARAM_free(params) }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else { throw KeyError.openssl("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(ctx) }
        var key: OpaquePointer?
        guard EVP_PKEY_fromdata_init(ctx) == 1, EVP_PKEY_fromdata(ctx, &key, Self.publicKeySelection, params) == 1, let key else {
            throw KeyError.openssl("EVP_PKEY_fromdata")
        }
        self.init(pkey: key, isPrivate: false)
    }

    /// `EVP_PKEY_PUBLIC_KEY`, a compound macro Swift does not import.
    static let publicKeySelection = OSSL_KEYMGMT_SELECT_PUBLIC_KEY | OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS
        | OSSL_KEYMGMT_SELECT_OTHER_PARAMETERS

    /// The private key as PKCS#8 PEM (for the key file; never logged).
    public func privateKeyPEM() throws -> String {
        guard isPrivate else { throw KeyError.openssl("export of a public-only key") }
        guard let bio = BIO_new(BIO_s_mem()) else { throw KeyError.openssl("BIO_new") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil) == 1 else { throw KeyError.openssl("PEM_write_bio_PrivateKey") }
        var bytes = [UInt8](repeating: 0, count: Int(BIO_ctrl_pending(bio)))
        let read = BIO_read(bio, &bytes, Int32(bytes.count))
        guard read == bytes.count else { throw KeyError.openssl("BIO_read") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Modulus `n`, big-endian, no leading zeros (the JWK `n` member before base64url).
    public var modulus: [UInt8] { bigNumberParameter("n") }
    /// Public exponent `e`, big-endian (the JWK `e` member before base64url).
    public var exponent: [UInt8] { bigNumberParameter("e") }

    private func bigNumberParameter(_ name: String) -> [UInt8] {
        var bn: OpaquePointer?
        guard EVP_PKEY_get_bn_param(pkey, name, &bn) == 1, let bn else { preconditionFailure("RSA key without \(name)") }
        defer { BN_free(bn) }
        var bytes = [UInt8](repeating: 0, count: (Int(BN_num_bits(bn)) + 7) / 8)
        _ = BN_bn2bin(bn, &bytes)
        return bytes
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message` (RS256).
    public func signSHA256(_ message: [UInt8]) throws -> [UInt8] {
        guard isPrivate else { throw KeyError.openssl("signing with a public-only key") }
        guard let ctx = EVP_MD_CTX_new() else { throw KeyError.openssl("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, EVP_sha256(), nil, pkey) == 1 else { throw KeyError.openssl("EVP_DigestSignInit") }
        var length = 0
        guard EVP_DigestSign(ctx, nil, &length, message, message.count) == 1 else { throw KeyError.openssl("EVP_DigestSign (size)") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(ctx, &signature, &length, message, message.count) == 1 else { throw KeyError.openssl("EVP_DigestSign") }
        return Array(signature.prefix(length))
    }

    /// True when `signature` is a valid RS256 signature of `message` by this key.
    public func verifySHA256(_ message: [UInt8], signature: [UInt8]) -> Bool {
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx); ERR_clear_error() }
        guard EVP_DigestVerifyInit(ctx, nil, EVP_sha256(), nil, pkey) == 1 else { return false }
        return EVP_DigestVerify(ctx, signature, signature.count, message, message.count) == 1
    }

    static func lastOpenSSLError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "no OpenSSL error queued" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(cString: buffer)
    }
}
