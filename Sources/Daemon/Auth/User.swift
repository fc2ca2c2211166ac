import Foundation
import HTTPServer

/// A user of every module's JWT-protected API (the union of the supervisor's and autopack's columns).
public struct User: Sendable, Equatable {
    public var id: Int
    public var username: String
    public var email: String?
    public var fullName: String?
    public var passwordHash: String
    public var roles: [String]
    public var isActive: Bool
    public var isSuperuser: Bool
    public var createdAt: Date
    public var updatedAt: Date
    public var lastLoginAt: Date?

    public var permissions: Set<Permission> { RolePermissions.permissions(roles: roles, isSuperuser: isSuperuser) }

    /// The public view (never the hash): `{id, username, email, full_name, roles, permissions, is_active, …}`.
    public var json: JSONValue {
        .object([("id", .int(id)), ("username", .string(username)), ("email", email.map(JSONValue.string) ?? .null),
                 ("full_name", fullName.map(JSONValue.string) ?? .null), ("roles", .array(roles.map(JSONValue.string))),
                 ("permissions", .array(permissions.map(\.name).sorted().map(JSONValue.string))),
                 ("is_active", .bool(isActive)), ("is_superuser", .bool(isSuperuser)),
                 ("created_at", .string(AuthTime.iso(createdAt))), ("updated_at", .string(AuthTime.iso(updatedAt))),
                 ("last_login_at", lastLoginAt.map { .string(AuthTime.iso($0)) } ?? .null)])
    }
}

/// ISO 8601 with milliseconds and `Z`, the modules' time format.
public enum AuthTime {
    public static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
