import Foundation
import HTTPServer

/// The two JWS algorithms Argus signs and verifies (RFC 7518 §3.2, §3.3).
public enum JWTAlgorithm: String, Sendable {
    case hs256 = "HS256"
    case rs256 = "RS256"
}

/// A key and the one algorithm it is used with. The key, never the token's header, decides the algorithm:
/// a token whose `alg` differs (`none`, or HS256 presented to an RSA key) is rejected, so the RSA public key
/// can never be used as an HMAC secret (the classic algorithm-confusion attack).
public enum JWTKey: Sendable {
    case hmac(secret: [UInt8])
    case rsa(RSAKey)

    public var algorithm: JWTAlgorithm {
        switch self {
        case .hmac: .hs256
        case .rsa: .rs256
        }
    }

    func sign(_ input: [UInt8]) throws -> [UInt8] {
        switch self {
        case .hmac(let secret): HMACSHA256.mac(key: secret, message: input)
        case .rsa(let key): try key.signSHA256(input)
        }
    }

    func verify(_ input: [UInt8], signature: [UInt8]) -> Bool {
        switch self {
        case .hmac(let secret): constantTimeEquals(HMACSHA256.mac(key: secret, message: input), signature)
        case .rsa(let key): key.verifySHA256(input, signature: signature)
        }
    }
}

/// Why a token was refused. The HTTP layer answers 401 for all of them; the case is for logs and tests.
public enum JWTError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case algorithmNotAllowed(String)
    case badSignature
    case expired
    case notYetValid
    case wrongIssuer
    case wrongAudience
    case missingClaim(String)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed token: \(why)"
        case .algorithmNotAllowed(let alg): "algorithm \(alg) not allowed"
        case .badSignature: "bad signature"
        case .expired: "token expired"
        case .notYetValid: "token not yet valid"
        case .wrongIssuer: "wrong issuer"
        case .wrongAudience: "wrong audience"
        case .missingClaim(let name): "missing claim \(name)"
        }
    }
}

/// What a verified token must also satisfy besides its signature.
public struct JWTValidation: Sendable {
    public var now: Date
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    public var leeway: TimeInterval = 30
    /// When set, `iss` must equal it.
    public var issuer: String?
    /// When set, `aud` (a string or an array of strings) must contain it.
    public var audience: String?
    /// Refuse tokens without `exp` (Argus never issues one).
    public var requireExpiry = true

    public init(now: Date, issuer: String? = nil, audience: String? = nil) {
        self.now = now
        self.issuer = issuer
        self.audience = audience
    }
}

/// A decoded, verified token.
public struct VerifiedJWT: Sendable {
    public let header: JSONValue
    public let claims: JSONValue
}

/// JWS compact serialization (RFC 7515 §7.1) for JWTs (RFC 7519).
public enum JWT {
    /// `base64url(header).base64url(claims).base64url(signature)` with header `{"alg","typ":"JWT","kid"?}`.
    public static func sign(claims: JSONValue, key: JWTKey, keyID: String? = nil) throws -> String {
        var header: [(String, JSONValue)] = [("alg", .string(key.algorithm.rawValue)), ("typ", "JWT")]
        if let keyID { header.append(("kid", .string(keyID))) }
        let input = Base64URL.encode(JSONValue.object(header).encoded()) + "." + Base64URL.encode(claims.encoded())
        return input + "." + Base64URL.encode(try key.sign(Array(input.utf8)))
    }

    /// Checks the signature with `key` (whose algorithm the header must name), then `exp`, `nbf`, `iss`, `aud`.
    public static func verify(_ token: String, key: JWTKey, validation: JWTValidation) throws(JWTError) -> VerifiedJWT {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("expected three segments") }
        guard let headerBytes = Base64URL.decode(parts[0]), let header = DecodedJSON.parse(headerBytes), header.objectValue != nil else {
            throw .malformed("header is not base64url JSON")
        }
        guard let alg = header["alg"]?.stringValue else { throw .malformed("header without alg") }
        guard alg == key.algorithm.rawValue else { throw .algorithmNotAllowed(alg) }
        guard let signature = Base64URL.decode(parts[2]), !signature.isEmpty else { throw .malformed("signature is not base64url") }
        let input = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard key.verify(input, signature: signature) else { throw .badSignature }
        guard let claimBytes = Base64URL.decode(parts[1]), let claims = DecodedJSON.parse(claimBytes), claims.objectValue != nil else {
            throw .malformed("claims are not base64url JSON")
        }
        try check(claims, validation)
        return VerifiedJWT(header: header, claims: claims)
    }

    static func check(_ claims: JSONValue, _ v: JWTValidation) throws(JWTError) {
        let now = v.now.timeIntervalSince1970
        if let exp = claims["exp"] {
            guard let seconds = exp.doubleValue else { throw .malformed("exp is not a number") }
            if now >= seconds + v.leeway { throw .expired }
        } else if v.requireExpiry {
            throw .missingClaim("exp")
        }
        if let nbf = claims["nbf"] {
            guard let seconds = nbf.doubleValue else { throw .malformed("nbf is not a number") }
            if now + v.leeway < seconds { throw .notYetValid }
        }
        if let issuer = v.issuer, claims["iss"]?.stringValue != issuer { throw .wrongIssuer }
        if let audience = v.audience {
            let audiences: [String] = switch claims["aud"] {
            case .string(let one)?: [one]
            case .array(let many)?: many.compactMap(\.stringValue)
            default: []
            }
            guard audiences.contains(audience) else { throw .wrongAudience }
        }
    }
}
