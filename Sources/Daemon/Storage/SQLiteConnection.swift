import CSQLite
import Foundation

/// One SQLite connection. Not thread-safe by itself: use it from one thread or serial queue at a time
/// (``SQLiteDatabase`` does that for the writer; readers open their own connection each).
///
/// Every connection is configured the same way: extended result codes, a busy timeout, `foreign_keys=ON`,
/// and for read-write connections `journal_mode=WAL` + `synchronous=FULL` (see `docs/storage.md`:
/// with FULL, WAL is fsync'ed on every commit, so a transaction that has committed survives power loss;
/// NORMAL only syncs at checkpoints and can lose the last commits).
public final class SQLiteConnection {
    public enum Mode: Sendable {
        case readWrite
        case readOnly
    }

    /// Durability of committed transactions (`PRAGMA synchronous`).
    public enum Synchronous: String, Sendable {
        case full = "FULL"
        case normal = "NORMAL"
        case off = "OFF"
    }

    public struct Options: Sendable {
        public var busyTimeoutMilliseconds: Int32 = 5_000
        public var synchronous: Synchronous = .full
        /// Pages; 1000 × 4 KiB is SQLite's default auto-checkpoint. Ignored (0) for the writer of a
        /// ``SQLiteDatabase`` with `backgroundCheckpointSeconds` set.
        public var walAutoCheckpointPages: Int = 1_000
        /// When set, ``SQLiteDatabase`` turns auto-checkpointing off on its writer and checkpoints the WAL
        /// (PASSIVE) from a separate connection on a background queue at this interval, so no commit pays
        /// for a checkpoint's copy + fsync.
        public var backgroundCheckpointSeconds: Double? = 2
        /// Bytes the WAL file is truncated to when the writer restarts it after a checkpoint
        /// (`PRAGMA journal_size_limit`): without it the file keeps its largest size forever (docs/retention.md).
        public var walSizeLimitBytes: Int = 64 << 20
        public init() {}
    }

    private var db: OpaquePointer?
    public let path: String
    public let mode: Mode
    private var statementCache: [String: SQLiteStatement] = [:]
    private var keyedCache: [String: SQLiteStatement] = [:]
    private var transactionDepth = 0

    public init(path: String, mode: Mode = .readWrite, options: Options = Options()) throws(SQLiteError) {
        self.path = path
        self.mode = mode
        var handle: OpaquePointer?
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        flags |= (mode == .readWrite) ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) : SQLITE_OPEN_READONLY
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let error = SQLiteError.from(handle, code: code, sql: nil, operation: "open \(path)")
            sqlite3_close_v2(handle)
            throw error
        }
        db = handle
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, options.busyTimeoutMilliseconds)
        do throws(SQLiteError) {
            try execute("PRAGMA foreign_keys = ON")
            if mode == .readWrite {
                let journal = try pragma("journal_mode = WAL")?.string?.lowercased()
                guard journal == "wal" else {
                    throw SQLiteError(code: SQLITE_ERROR, message: "journal_mode is \(journal ?? "nil"), expected wal",
                                      sql: "PRAGMA journal_mode = WAL", operation: "configure")
                }
                try execute("PRAGMA synchronous = \(options.synchronous.rawValue)")
                try execute("PRAGMA wal_autocheckpoint = \(options.walAutoCheckpointPages)")
                _ = try pragma("journal_size_limit = \(options.walSizeLimitBytes)")
            }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Finalizes cached statements and closes the handle. Safe to call twice.
    /// Does not checkpoint explicitly: SQLite checkpoints the WAL on the last close, and a crash before
    /// that is recovered from the WAL on the next open.
    public func close() {
        statementCache.removeAll()
        keyedCache.removeAll()
        if let db { sqlite3_close_v2(db) }
        db = nil
    }

    public var isOpen: Bool { db != nil }

    var handle: OpaquePointer {
        get throws(SQLiteError) {
            guard let db else {
                throw SQLiteError(code: SQLITE_MISUSE, message: "connection is closed", sql: nil, operation: "use")
            }
            return db
        }
    }

    // MARK: Statements

    /// Prepares a new statement (not cached).
    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        try SQLiteStatement(connection: handle, sql: sql)
    }

    /// Returns a cached prepared statement for `sql`, preparing it on first use. The statement is reset
    /// (bindings cleared) before it is handed out.
    public func cached(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let statement = statementCache[sql] {
            statement.reset()
            return statement
        }
        let statement = try prepare(sql)
        statementCache[sql] = statement
        return statement
    }

    /// Like `cached(_:)` but keyed by a short name, so hot paths with long SQL do not hash the SQL text
    /// on every call. `sql` is only evaluated the first time.
    public func cached(key: String, _ sql: @autoclosure () -> String) throws(SQLiteError) -> SQLiteStatement {
        if let statement = keyedCache[key] {
            statement.reset()
            return statement
        }
        let statement = try prepare(sql())
        keyedCache[key] = statement
        return statement
    }

    /// Runs one or more SQL statements without parameters or results.
    public func execute(_ sql: String) throws(SQLiteError) {
        let db = try handle
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(db, sql, nil, nil, &errorMessage)
        if code != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_free(errorMessage)
            throw SQLiteError(code: sqlite3_extended_errcode(db), message: message, sql: sql, operation: "execute")
        }
    }

    /// Runs a cached statement with parameters, discarding result rows.
    public func run(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) {
        try cached(sql).execute(values)
    }

    /// Runs a cached statement and maps every result row.
    public func query<T>(_ sql: String, _ values: [SQLiteValue] = [], _ map: (SQLiteStatement) throws -> T) throws -> [T] {
        try cached(sql).query(values, map)
    }

    /// The first column of the first row, or nil when there is no row.
    public func scalar(_ sql: String, _ values: [SQLiteValue] = []) throws -> SQLiteValue? {
        try query(sql, values) { $0.value(0) }.first
    }

    /// Reads a pragma (`pragma("user_version")`) or sets one and returns its result row, if any.
    @discardableResult
    public func pragma(_ text: String) throws(SQLiteError) -> SQLiteValue? {
        let statement = try prepare("PRAGMA \(text)")
        defer { statement.reset() }
        return try statement.step() ? statement.value(0) : nil
    }

    /// Rows changed by the last INSERT/UPDATE/DELETE on this connection.
    public var changes: Int { db.map { Int(sqlite3_changes64($0)) } ?? 0 }

    // MARK: Transactions

    public enum TransactionKind: String, Sendable {
        case deferred = "DEFERRED"
        case immediate = "IMMEDIATE"
        case exclusive = "EXCLUSIVE"
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK (then rethrow) when it throws or
    /// the commit fails. Nested calls use savepoints.
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        if transactionDepth > 0 {
            let name = "sp\(transactionDepth)"
            try execute("SAVEPOINT \(name)")
            transactionDepth += 1
            defer { transactionDepth -= 1 }
            do {
                let result = try body()
                try execute("RELEASE \(name)")
                return result
            } catch {
                try? execute("ROLLBACK TO \(name); RELEASE \(name)")
                throw error
            }
        }
        try execute("BEGIN \(kind.rawValue)")
        transactionDepth = 1
        defer { transactionDepth = 0 }
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if let db, sqlite3_get_autocommit(db) == 0 { try? execute("ROLLBACK") }
            throw error
        }
    }

    public var isInTransaction: Bool { db.map { sqlite3_get_autocommit($0) == 0 } ?? false }
}

@available(*, unavailable)
extension SQLiteConnection: Sendable {}
