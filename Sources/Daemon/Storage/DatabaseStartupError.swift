import CSQLite
import Foundation

/// The database could not be opened at start-up. argusd never resets or recreates a database it cannot read:
/// it stops with what happened, what to do, and an exit code a supervisor can act on.
public struct DatabaseStartupError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case corrupt, locked, unwritable, other }
    public let kind: Kind
    public let path: String
    public let underlying: SQLiteError

    /// Maps an error raised while opening `path`; nil for anything that is not SQLite's.
    public init?(path: String, error: any Error) {
        guard let sqlite = error as? SQLiteError else { return nil }
        self.path = path
        self.underlying = sqlite
        switch sqlite.primaryCode {
        case SQLITE_CORRUPT, SQLITE_NOTADB: kind = .corrupt
        case SQLITE_BUSY, SQLITE_LOCKED: kind = .locked
        case SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_PERM, SQLITE_FULL, SQLITE_IOERR: kind = .unwritable
        default: kind = .other
        }
    }

    /// 3 corrupt, 4 locked, 5 unwritable (1 stays "any other failure", 2 "usage").
    public var exitCode: Int32 {
        switch kind {
        case .corrupt: 3
        case .locked: 4
        case .unwritable: 5
        case .other: 1
        }
    }

    public var description: String {
        let what: String
        switch kind {
        case .corrupt:
            what = "the database \(path) is damaged or is not an SQLite database. argusd does not reset it. Restore it from a backup, "
                + "or move it aside to start with an empty one: mv \(path) \(path).damaged"
        case .locked:
            what = "the database \(path) is locked by another process (another argusd on the same --data-dir?). "
                + "Stop that process or give this one another --data-dir."
        case .unwritable:
            what = "the database \(path) cannot be opened for writing (permissions, read-only file system or a full disk). "
                + "Check the directory's owner, mode and free space."
        case .other:
            what = "the database \(path) could not be opened."
        }
        return what + " (SQLite: \(underlying.message), code \(underlying.code))"
    }
}
