import CSQLite
import Dispatch
import Foundation

/// The daemon's database: one writer connection serialised on a private queue, plus read-only
/// connections handed out on demand (WAL lets readers run concurrently with the writer).
///
/// `@unchecked Sendable`: the only mutable state is the writer `SQLiteConnection`, and every access to it
/// goes through `queue.sync`, so no two threads ever use it at once. The connection is opened with
/// `SQLITE_OPEN_NOMUTEX` because this queue is the mutex. The background checkpointer's connection is
/// only touched under `checkpointLock`. Re-entrant calls from inside a `write` block
/// run inline on the same queue (detected with a `DispatchSpecificKey`) instead of dead-locking.
public final class SQLiteDatabase: @unchecked Sendable {
    /// Path of the database file.
    public let path: String
    private let writer: SQLiteConnection
    private let options: SQLiteConnection.Options
    private let queue: DispatchQueue
    private let queueKey = DispatchSpecificKey<UInt8>()

    /// Opens (creating if needed) the database at `path` and applies `migrations`.
    public init(path: String, migrations: [Migration] = ArgusMigrations.all,
                options: SQLiteConnection.Options = SQLiteConnection.Options()) throws {
        self.path = path
        self.options = options
        self.queue = DispatchQueue(label: "argus.sqlite.writer")
        queue.setSpecific(key: queueKey, value: 1)
        var writerOptions = options
        if options.backgroundCheckpointSeconds != nil { writerOptions.walAutoCheckpointPages = 0 }
        writer = try SQLiteConnection(path: path, mode: .readWrite, options: writerOptions)
        try Migrator(migrations: migrations).migrate(writer)
        if let interval = options.backgroundCheckpointSeconds { startCheckpointer(interval: interval) }
    }

    private let checkpointLock = NSLock()
    private var checkpointTimer: DispatchSourceTimer?
    private var checkpointConnection: SQLiteConnection?

    /// PASSIVE checkpoints from a dedicated connection: they copy committed WAL frames into the database
    /// file without blocking the writer or readers; the writer restarts the WAL once it is fully copied.
    private func startCheckpointer(interval: Double) {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "argus.sqlite.checkpoint", qos: .utility))
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.backgroundCheckpoint() }
        checkpointTimer = timer
        timer.resume()
    }

    private func backgroundCheckpoint() {
        checkpointLock.withLock {
            do {
                if checkpointConnection == nil {
                    var o = options
                    o.walAutoCheckpointPages = 0
                    checkpointConnection = try SQLiteConnection(path: path, mode: .readWrite, options: o)
                }
                _ = try checkpointConnection?.pragma("wal_checkpoint(PASSIVE)")
            } catch {
                // Busy or failing checkpoints are retried on the next tick; the WAL stays valid meanwhile.
            }
        }
    }

    /// Runs `body` with the writer connection, serialised with every other writer call.
    /// Use `connection.transaction { … }` inside for atomic multi-statement writes.
    public func write<T>(_ body: (SQLiteConnection) throws -> T) rethrows -> T {
        if DispatchQueue.getSpecific(key: queueKey) != nil { return try body(writer) }
        return try queue.sync { try body(writer) }
    }

    /// Runs `body` in one IMMEDIATE transaction on the writer.
    public func writeTransaction<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try write { connection in try connection.transaction(.immediate) { try body(connection) } }
    }

    /// Opens a new read-only connection to the same file. The caller owns it and must use it from one
    /// thread at a time.
    public func makeReader() throws -> SQLiteConnection {
        try SQLiteConnection(path: path, mode: .readOnly, options: options)
    }

    /// Runs `body` on a fresh read-only connection, closed afterwards.
    public func read<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        let reader = try makeReader()
        defer { reader.close() }
        return try body(reader)
    }

    /// Checkpoints the WAL into the main file (TRUNCATE mode). Optional: SQLite checkpoints automatically.
    public func checkpoint() throws {
        try write { connection in _ = try connection.pragma("wal_checkpoint(TRUNCATE)") }
    }

    /// Closes the writer. Further `write` calls throw `SQLITE_MISUSE`.
    public func close() {
        checkpointLock.withLock {
            checkpointTimer?.cancel()
            checkpointTimer = nil
            checkpointConnection?.close()
            checkpointConnection = nil
        }
        write { connection in
            // Fold the WAL into the database file so a stopped daemon leaves one self-contained file.
            try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()
        }
    }
}
