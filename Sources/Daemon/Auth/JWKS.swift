import COpenSSL
import Foundation
import HTTPServer

/// JSON Web Key Set documents (RFC 7517) for RSA verification keys, and the RFC 7638 thumbprint used as `kid`.
public enum JWKS {
    /// `{"kty":"RSA","n","e","kid","alg":"RS256","use":"sig"}` for `key`'s public half.
    public static func jwk(for key: RSAKey, keyID: String) -> JSONValue {
        ["kty": "RSA", "n": .string(Base64URL.encode(key.modulus)), "e": .string(Base64URL.encode(key.exponent)),
         "kid": .string(keyID), "alg": "RS256", "use": "sig"]
    }

    /// `{"keys":[…]}`.
    public static func document(_ keys: [(RSAKey, String)]) -> JSONValue {
        .object([("keys", .array(keys.map { jwk(for: $0.0, keyID: $0.1) }))])
    }

    /// RFC 7638 §3: base64url(SHA-256 of `{"e":"…","kty":"RSA","n":"…"}`), members sorted, no whitespace.
    public static func thumbprint(of key: RSAKey) -> String {
        let canonical = #"{"e":"\#(Base64URL.encode(key.exponent))","kty":"RSA","n":"\#(Base64URL.encode(key.modulus))"}"#
        return Base64URL.encode(sha256(Array(canonical.utf8)))
    }

    /// The public key a JWK describes (`kty` RSA only).
    public static func key(from jwk: JSONValue) throws -> RSAKey {
        guard jwk["kty"]?.stringValue == "RSA", let n = jwk["n"]?.stringValue.flatMap(Base64URL.decode),
              let e = jwk["e"]?.stringValue.flatMap(Base64URL.decode) else { throw RSAKey.KeyError.openssl("JWK is not an RSA key") }
        return try RSAKey(modulus: n, exponent: e)
    }
}

func sha256(_ bytes: [UInt8]) -> [UInt8] {
    var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    let ok = EVP_Digest(bytes, bytes.count, &output, &length, EVP_sha256(), nil)
    precondition(ok == 1 && length == 32, "EVP_Digest(SHA-256) failed")
    return Array(output.prefix(32))
}
