import CSQLite

/// An error from SQLite, carrying the result code, SQLite's own message and the SQL that failed.
public struct SQLiteError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The extended result code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT_PRIMARYKEY`, …).
    public let code: Int32
    /// `sqlite3_errmsg` at the time of the failure (or `sqlite3_errstr` when no connection exists).
    public let message: String
    /// The statement that failed, if any.
    public let sql: String?
    /// What the wrapper was doing ("open", "prepare", "step", "bind 3", …).
    public let operation: String

    public init(code: Int32, message: String, sql: String?, operation: String) {
        self.code = code
        self.message = message
        self.sql = sql
        self.operation = operation
    }

    /// The primary result code (`code & 0xff`).
    public var primaryCode: Int32 { code & 0xff }

    /// True for `SQLITE_BUSY` / `SQLITE_LOCKED`: the operation may succeed if retried.
    public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }

    public var description: String {
        var text = "SQLite error \(code) during \(operation): \(message)"
        if let sql { text += " [SQL: \(sql)]" }
        return text
    }

    static func from(_ handle: OpaquePointer?, code: Int32, sql: String?, operation: String) -> SQLiteError {
        let message: String
        if let handle, let cString = sqlite3_errmsg(handle) {
            message = String(cString: cString)
        } else {
            message = String(cString: sqlite3_errstr(code))
        }
        return SQLiteError(code: code, message: message, sql: sql, operation: operation)
    }
}
