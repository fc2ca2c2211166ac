/// A permission is `resource:action` (`tasks:create`, `system:admin`). Routes require one; roles grant them.
public struct Permission: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    public init(stringLiteral value: String) { self.name = value }
    public var description: String { name }
}

/// Roles → permissions: one table for every module. The supervisor's roles are the original's
/// (modules-notes §2.2: admin, user, viewer, api_user), plus the plugin, agent and audit permissions its routes
/// need (the original never seeded `plugins:*`, leaving those routes unusable). Other modules add their
/// permissions here, next to the role that grants them. `is_superuser` users hold every permission.
public enum RolePermissions {
    static let crudx = ["create", "read", "update", "delete", "execute"]

    public static let all: Set<Permission> = {
        var names: [String] = []
        for resource in ["tasks", "workflows"] { names += crudx.map { "\(resource):\($0)" } }
        names += ["analytics:read", "analytics:export", "providers:read", "providers:manage",
                  "users:create", "users:read", "users:update", "users:delete", "roles:manage", "system:admin",
                  "agents:read", "audit:read", "resources:read", "resources:manage", "monitoring:read", "monitoring:manage",
                  "plugins:read", "plugins:manage", "plugins:configure", "plugins:use"]
        // Autopack (seed 003): runs, phases, approvals, artifacts.
        names += ["runs:read", "runs:write", "approvals:decide", "artifacts:read", "artifacts:write"]
        return Set(names.map { Permission($0) })
    }()

    /// The built-in roles. A user's permissions are the union over its roles.
    public static let table: [String: Set<Permission>] = {
        let work: [Permission] = ["tasks:create", "tasks:read", "tasks:update", "tasks:execute",
                                  "workflows:create", "workflows:read", "workflows:update", "workflows:execute"]
        let reads: [Permission] = ["tasks:read", "workflows:read", "analytics:read", "providers:read", "agents:read",
                                   "resources:read", "monitoring:read", "plugins:read", "runs:read", "artifacts:read"]
        return [
            "admin": all,
            "user": Set(work + reads + ["plugins:use", "runs:write", "artifacts:write"]),
            "viewer": Set(reads),
            "api_user": Set(work + ["runs:write", "runs:read", "artifacts:read", "artifacts:write"]),
        ]
    }()

    public static var roleNames: [String] { table.keys.sorted() }

    /// Permissions of `roles` (unknown role names grant nothing); every permission for a superuser.
    public static func permissions(roles: [String], isSuperuser: Bool) -> Set<Permission> {
        if isSuperuser { return all }
        return roles.reduce(into: Set<Permission>()) { $0.formUnion(table[$1] ?? []) }
    }
}
