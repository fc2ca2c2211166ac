import Foundation
import HTTPServer

/// Autopack's persisted state: the module's SQLite database plus the artifact blobs. Every route answers
/// from here; every write is one transaction on the database's single writer (reads share that queue too,
/// so a reader never sees a half-applied phase update).
final class AutopackStore: Sendable {
    let database: SQLiteDatabase
    let artifacts: ArtifactStore
    let clock: any DaemonClock
    let settings: AutopackSettings
    /// The module's folder (`<data-dir>/autopack/`): blobs, human notes, the default storage-scan root.
    let folder: URL
    let publish: @Sendable (String, JSONValue) -> Void

    init(database: SQLiteDatabase, folder: URL, clock: any DaemonClock, settings: AutopackSettings,
         publish: @escaping @Sendable (String, JSONValue) -> Void = { _, _ in }) throws {
        self.database = database
        self.folder = folder
        self.artifacts = try ArtifactStore(directory: folder.appendingPathComponent("blobs", isDirectory: true))
        self.clock = clock
        self.settings = settings
        self.publish = publish
    }

    var now: Double { clock.now().timeIntervalSince1970 }

    /// One atomic read-modify-write.
    func transaction<T>(_ body: (SQLiteConnection) throws -> T) throws -> T { try database.writeTransaction(body) }

    /// A consistent read (on the writer's queue, in a deferred transaction).
    func read<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try database.write { connection in try connection.transaction(.deferred) { try body(connection) } }
    }
}

extension SQLiteValue {
    static func of(_ value: String?) -> SQLiteValue { value.map { .text($0) } ?? .null }
    static func of(_ value: Int?) -> SQLiteValue { value.map { .integer(Int64($0)) } ?? .null }
    static func of(_ value: Double?) -> SQLiteValue { value.map { .real($0) } ?? .null }
    static func of(_ value: Bool) -> SQLiteValue { .integer(value ? 1 : 0) }
}
