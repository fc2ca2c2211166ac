import Foundation
import HTTPServer
import Testing
@testable import Daemon

@Suite struct JWTTests {
    // RFC 7515 Appendix A.1: the HS256 example JWS, its key, and its expected signature.
    static let rfcToken = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9" + "."
        + "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ" + "."
        + "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    static let rfcKey = Base64URL.decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")!
    static let beforeRFCExpiry = Date(timeIntervalSince1970: 1_300_819_000)

    @Test func rfc7515A1HMACSignatureMatchesTheRFC() throws {
        let parts = Self.rfcToken.split(separator: ".")
        let input = Array("\(parts[0]).\(parts[1])".utf8)
        #expect(Base64URL.encode(HMACSHA256.mac(key: Self.rfcKey, message: input)) == "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        let verified = try JWT.verify(Self.rfcToken, key: .hmac(secret: Self.rfcKey), validation: JWTValidation(now: Self.beforeRFCExpiry))
        #expect(verified.claims["iss"] == "joe")
        #expect(verified.claims["http://example.com/is_root"] == .bool(true))
        #expect(verified.claims["exp"] == .int(1_300_819_380))
    }

    @Test func rfc7515A1TokenIsExpiredTodayAndRejectedWithAnotherKey() {
        #expect(throws: JWTError.expired) {
            try JWT.verify(Self.rfcToken, key: .hmac(secret: Self.rfcKey), validation: JWTValidation(now: Date()))
        }
        #expect(throws: JWTError.badSignature) {
            try JWT.verify(Self.rfcToken, key: .hmac(secret: Array("other".utf8)), validation: JWTValidation(now: Self.beforeRFCExpiry))
        }
    }

    @Test func base64URLRoundTripsAndRejectsForeignAlphabet() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + 11) & 0xFF) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == bytes)
        }
        #expect(Base64URL.decode("ab+c") == nil)
        #expect(Base64URL.decode("abc=") == nil)
        #expect(Base64URL.decode("a") == nil)
    }

    @Test func rs256RoundTripAndJWKSPublicKeyVerifies() throws {
        let key = try RSAKey.generate()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let claims: JSONValue = ["sub": "7", "iss": "argusd", "aud": "argus", "exp": .int(1_800_000_600), "nbf": .int(1_800_000_000)]
        let token = try JWT.sign(claims: claims, key: .rsa(key), keyID: "k1")
        let validation = JWTValidation(now: now, issuer: "argusd", audience: "argus")
        #expect(try JWT.verify(token, key: .rsa(key), validation: validation).claims["sub"] == "7")
        // Verified again with nothing but the published JWK (n, e).
        let published = try JWKS.key(from: JWKS.jwk(for: key, keyID: "k1"))
        #expect(!published.isPrivate)
        #expect(try JWT.verify(token, key: .rsa(published), validation: validation).header["kid"] == "k1")
        // PEM round trip keeps the key.
        let reloaded = try RSAKey(privateKeyPEM: key.privateKeyPEM())
        #expect(reloaded.modulus == key.modulus && reloaded.exponent == [1, 0, 1])
        #expect(key.modulus.count == 256)
    }

    @Test func tamperedExpiredEarlyAndMisaddressedTokensAreRejected() throws {
        let key = try RSAKey.generate()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let validation = JWTValidation(now: now, issuer: "argusd", audience: "argus")
        func token(_ claims: JSONValue) throws -> String { try JWT.sign(claims: claims, key: .rsa(key)) }
        let good = try token(["sub": "1", "iss": "argusd", "aud": "argus", "exp": .int(1_800_000_600)])
        let parts = good.split(separator: ".").map(String.init)
        // Claims changed after signing (admin escalation attempt).
        let forged = Base64URL.encode(#"{"sub":"0","iss":"argusd","aud":"argus","exp":1800000600}"#)
        #expect(throws: JWTError.badSignature) { try JWT.verify("\(parts[0]).\(forged).\(parts[2])", key: .rsa(key), validation: validation) }
        // One flipped signature bit.
        var signature = Base64URL.decode(parts[2])!
        signature[10] ^= 1
        #expect(throws: JWTError.badSignature) {
            try JWT.verify("\(parts[0]).\(parts[1]).\(Base64URL.encode(signature))", key: .rsa(key), validation: validation)
        }
        #expect(throws: JWTError.expired) {
            try JWT.verify(try token(["iss": "argusd", "aud": "argus", "exp": .int(1_799_999_000)]), key: .rsa(key), validation: validation)
        }
        #expect(throws: JWTError.notYetValid) {
            try JWT.verify(try token(["iss": "argusd", "aud": "argus", "exp": .int(1_800_009_000), "nbf": .int(1_800_001_000)]),
                           key: .rsa(key), validation: validation)
        }
        #expect(throws: JWTError.missingClaim("exp")) {
            try JWT.verify(try token(["iss": "argusd", "aud": "argus"]), key: .rsa(key), validation: validation)
        }
        #expect(throws: JWTError.wrongIssuer) {
            try JWT.verify(try token(["iss": "evil", "aud": "argus", "exp": .int(1_800_000_600)]), key: .rsa(key), validation: validation)
        }
        #expect(throws: JWTError.wrongAudience) {
            try JWT.verify(try token(["iss": "argusd", "aud": ["other"], "exp": .int(1_800_000_600)]), key: .rsa(key), validation: validation)
        }
        #expect(throws: JWTError.self) { try JWT.verify("a.b", key: .rsa(key), validation: validation) }
    }

    @Test func algNoneAndHSRSConfusionAreRejected() throws {
        let key = try RSAKey.generate()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let validation = JWTValidation(now: now)
        let claims = Base64URL.encode(#"{"sub":"0","exp":1800000600}"#)
        // alg none, with and without a signature segment.
        let none = Base64URL.encode(#"{"alg":"none","typ":"JWT"}"#)
        #expect(throws: JWTError.algorithmNotAllowed("none")) { try JWT.verify("\(none).\(claims).", key: .rsa(key), validation: validation) }
        #expect(throws: JWTError.algorithmNotAllowed("none")) { try JWT.verify("\(none).\(claims).AAAA", key: .rsa(key), validation: validation) }
        // HS256 signed with the RSA *public* key bytes as the HMAC secret: the attack the key-decides rule stops.
        let publicPEM = Array(Base64URL.encode(key.modulus).utf8)
        let hs = Base64URL.encode(#"{"alg":"HS256","typ":"JWT"}"#)
        let mac = HMACSHA256.mac(key: publicPEM, message: Array("\(hs).\(claims)".utf8))
        #expect(throws: JWTError.algorithmNotAllowed("HS256")) {
            try JWT.verify("\(hs).\(claims).\(Base64URL.encode(mac))", key: .rsa(key), validation: validation)
        }
        // And the other way round: an RS256 token presented to an HMAC key.
        let rs = try JWT.sign(claims: ["exp": .int(1_800_000_600)], key: .rsa(key))
        #expect(throws: JWTError.algorithmNotAllowed("RS256")) { try JWT.verify(rs, key: .hmac(secret: [1, 2, 3]), validation: validation) }
    }

    @Test func passwordHashesAreSaltedAndVerified() {
        let hasher = PasswordHasher(iterations: 1_000)
        let a = hasher.hash("correct horse"), b = hasher.hash("correct horse")
        #expect(a != b)
        #expect(a.hasPrefix("pbkdf2_sha256$1000$"))
        #expect(hasher.verify("correct horse", against: a) && hasher.verify("correct horse", against: b))
        #expect(!hasher.verify("correct horsf", against: a))
        #expect(!hasher.verify("x", against: "pbkdf2_sha256$1000$bad"))
        // A stored hash keeps its own iteration count when the default changes.
        #expect(PasswordHasher(iterations: 5).verify("correct horse", against: a))
    }

    @Test func pbkdf2MatchesRFC7914TestVector() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, dkLen=64 (first 32 bytes compared).
        let derived = PasswordHasher.derive("passwd", salt: Array("salt".utf8), iterations: 1)
        let expected: [UInt8] = [0x55, 0xac, 0x04, 0x6e, 0x56, 0xe3, 0x08, 0x9f, 0xec, 0x16, 0x91, 0xc2, 0x25, 0x44, 0xb6, 0x05,
                                 0xf9, 0x41, 0x85, 0x21, 0x6d, 0xde, 0x04, 0x65, 0xe6, 0x8b, 0x9d, 0x57, 0xc2, 0x0d, 0xac, 0xbc]
        #expect(derived == expected)
    }
}
