import Foundation
import HTTPServer

/// Who a verified bearer token speaks for, with the user's current roles and permissions (read from the users
/// table on every request, so a role change or deactivation takes effect immediately).
public struct Principal: Sendable {
    public let user: User
    public let permissions: Set<Permission>
    /// The token's id (revocation key) and expiry.
    public let tokenID: String
    public let expiresAt: Date
    public let claims: JSONValue

    public var userID: Int { user.id }
    public var username: String { user.username }
    public func has(_ permission: Permission) -> Bool { permissions.contains(permission) }
}

/// An access and a refresh token issued together (one session).
public struct TokenPair: Sendable {
    public let accessToken: String
    public let refreshToken: String
    public let expiresIn: Int
    public let sessionID: String

    /// The supervisor's login body: `{access_token, refresh_token, token_type, expires_in}`.
    public var json: [(String, JSONValue)] {
        [("access_token", .string(accessToken)), ("refresh_token", .string(refreshToken)), ("token_type", "bearer"),
         ("expires_in", .int(expiresIn))]
    }
}

/// Why authentication failed; rendered as 401 (and 403 for ``forbidden``).
public enum AuthFailure: Error, Equatable, Sendable {
    case missingToken
    case invalidToken(String)
    case revoked
    case inactiveUser
    case badCredentials
    case forbidden(Permission)

    public var httpError: HTTPError {
        var headers = HTTPHeaders()
        headers.add(name: "WWW-Authenticate", value: "Bearer")
        switch self {
        case .missingToken: return HTTPError(.unauthorized, "Not authenticated", headers: headers)
        case .invalidToken, .revoked: return HTTPError(.unauthorized, "Could not validate credentials", headers: headers)
        case .inactiveUser: return HTTPError(.unauthorized, "Inactive user", headers: headers)
        case .badCredentials: return HTTPError(.unauthorized, "Incorrect username or password", headers: headers)
        case .forbidden(let permission): return HTTPError(.forbidden, "Permission denied: requires \(permission)")
        }
    }
}
