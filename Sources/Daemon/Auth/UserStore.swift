import Foundation
import HTTPServer

/// The `users` table. Writes go through the database's one writer; lookups too (one cached statement, no
/// connection per request).
public final class UserStore: Sendable {
    let database: SQLiteDatabase
    let clock: any DaemonClock

    init(database: SQLiteDatabase, clock: any DaemonClock) {
        self.database = database
        self.clock = clock
    }

    public enum StoreError: Error, Equatable {
        case duplicate(field: String)
    }

    static let columns = "id, username, email, full_name, password_hash, roles, is_active, is_superuser, created_at, updated_at, last_login_at"

    static func read(_ row: SQLiteStatement) -> User {
        let roles = DecodedJSON.parse(Array((row.string(5) ?? "[]").utf8))?.arrayValue?.compactMap(\.stringValue) ?? []
        return User(id: Int(row.int64(0)), username: row.string(1) ?? "", email: row.string(2), fullName: row.string(3),
                    passwordHash: row.string(4) ?? "", roles: roles, isActive: row.int64(6) != 0, isSuperuser: row.int64(7) != 0,
                    createdAt: Date(timeIntervalSince1970: row.double(8)), updatedAt: Date(timeIntervalSince1970: row.double(9)),
                    lastLoginAt: row.isNull(10) ? nil : Date(timeIntervalSince1970: row.double(10)))
    }

    public func count() throws -> Int {
        try database.write { Int(try $0.scalar("SELECT count(*) FROM users")?.int64 ?? 0) }
    }

    public func find(id: Int) throws -> User? {
        try database.write { try $0.query("SELECT \(Self.columns) FROM users WHERE id = ?", [.integer(Int64(id))], Self.read).first }
    }

    /// By username or, failing that, by email (the login form accepts either).
    public func find(login: String) throws -> User? {
        try database.write { c in
            try c.query("SELECT \(Self.columns) FROM users WHERE username = ?1 OR email = ?1 ORDER BY username = ?1 DESC LIMIT 1",
                        [.text(login)], Self.read).first
        }
    }

    public func list(skip: Int = 0, limit: Int = 100) throws -> [User] {
        try database.write { try $0.query("SELECT \(Self.columns) FROM users ORDER BY id LIMIT ? OFFSET ?",
                                          [.integer(Int64(limit)), .integer(Int64(skip))], Self.read) }
    }

    /// Inserts a user; `passwordHash` must already be hashed. Throws `.duplicate` for a taken username or email.
    @discardableResult
    public func create(username: String, email: String?, fullName: String?, passwordHash: String, roles: [String],
                       isActive: Bool = true, isSuperuser: Bool = false) throws -> User {
        let now = clock.now().timeIntervalSince1970
        return try database.writeTransaction { c in
            if try c.scalar("SELECT 1 FROM users WHERE username = ?", [.text(username)]) != nil { throw StoreError.duplicate(field: "username") }
            if let email, try c.scalar("SELECT 1 FROM users WHERE email = ?", [.text(email)]) != nil { throw StoreError.duplicate(field: "email") }
            try c.run("""
                INSERT INTO users (username, email, full_name, password_hash, roles, is_active, is_superuser, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(username), email.map(SQLiteValue.text) ?? .null, fullName.map(SQLiteValue.text) ?? .null,
                      .text(passwordHash), .text(Self.encodeRoles(roles)), .integer(isActive ? 1 : 0),
                      .integer(isSuperuser ? 1 : 0), .real(now), .real(now)])
            let id = try c.scalar("SELECT last_insert_rowid()")?.int64 ?? 0
            return try c.query("SELECT \(Self.columns) FROM users WHERE id = ?", [.integer(id)], Self.read)[0]
        }
    }

    /// Changes to apply to a user; nil members stay as they are.
    public struct Update: Sendable {
        public var email: String??
        public var fullName: String??
        public var passwordHash: String?
        public var roles: [String]?
        public var isActive: Bool?
        public var isSuperuser: Bool?
        public init() {}
    }

    /// Applies `update`; nil when there is no such user. Throws `.duplicate` for a taken email.
    public func update(id: Int, _ update: Update) throws -> User? {
        let now = clock.now().timeIntervalSince1970
        return try database.writeTransaction { c in
            guard var user = try c.query("SELECT \(Self.columns) FROM users WHERE id = ?", [.integer(Int64(id))], Self.read).first else { return nil }
            if let email = update.email {
                if let email, try c.scalar("SELECT 1 FROM users WHERE email = ? AND id <> ?", [.text(email), .integer(Int64(id))]) != nil {
                    throw StoreError.duplicate(field: "email")
                }
                user.email = email
            }
            if let fullName = update.fullName { user.fullName = fullName }
            if let hash = update.passwordHash { user.passwordHash = hash }
            if let roles = update.roles { user.roles = roles }
            if let active = update.isActive { user.isActive = active }
            if let superuser = update.isSuperuser { user.isSuperuser = superuser }
            try c.run("""
                UPDATE users SET email = ?, full_name = ?, password_hash = ?, roles = ?, is_active = ?, is_superuser = ?, updated_at = ?
                WHERE id = ?
                """, [user.email.map(SQLiteValue.text) ?? .null, user.fullName.map(SQLiteValue.text) ?? .null, .text(user.passwordHash),
                      .text(Self.encodeRoles(user.roles)), .integer(user.isActive ? 1 : 0), .integer(user.isSuperuser ? 1 : 0),
                      .real(now), .integer(Int64(id))])
            user.updatedAt = Date(timeIntervalSince1970: now)
            return user
        }
    }

    /// Deletes a user (its sessions go with it); false when there was none.
    public func delete(id: Int) throws -> Bool {
        try database.write { c in
            try c.run("DELETE FROM users WHERE id = ?", [.integer(Int64(id))])
            return c.changes > 0
        }
    }

    func recordLogin(id: Int) throws {
        try database.write { try $0.run("UPDATE users SET last_login_at = ? WHERE id = ?", [.real(clock.now().timeIntervalSince1970), .integer(Int64(id))]) }
    }

    static func encodeRoles(_ roles: [String]) -> String { JSONValue.array(roles.map(JSONValue.string)).encodedString }
}
