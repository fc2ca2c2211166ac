import Foundation

/// SQL for the feed tables (`metrics`, `servers`, `meta`). Every function takes the connection it runs on;
/// writers call these inside `SQLiteDatabase.write`.
///
/// `metrics` is clustered by time (primary key `(step_ts, server_name)`, schema v4), so one fleet step's
/// rows share a few leaf pages and a commit writes few pages. There is deliberately no per-server index
/// (it would put one dirty page per server back into every commit): a server's steps are read with a
/// skip-scan over the distinct steps (``steps(server:from:to:on:)``, cost ∝ steps in the range, not
/// fleet size), and restart reads every window in one time-range scan (``forEachStep(from:to:on:_:)``).
public enum MetricsTable {
    static let metricColumns = MetricField.allCases.map(\.rawValue)

    /// Insert a bucket or merge it into the stored one, returning the merged values.
    /// Merge: weighted mean for gauges, max for counts, newest sample wins for uptime/status/profile.
    static let upsertSQL: String = {
        let columns = ["server_name", "step_ts"] + metricColumns + ["status", "profile", "last_update_ts", "sample_count"]
        let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        let newer = "excluded.last_update_ts >= metrics.last_update_ts"
        var sets: [String] = []
        for field in MetricField.allCases {
            let c = field.rawValue
            switch field.aggregation {
            case .mean:
                sets.append("\(c) = (metrics.\(c) * metrics.sample_count + excluded.\(c) * excluded.sample_count)"
                            + " / (metrics.sample_count + excluded.sample_count)")
            case .max:
                sets.append("\(c) = max(metrics.\(c), excluded.\(c))")
            case .last:
                sets.append("\(c) = CASE WHEN \(newer) THEN excluded.\(c) ELSE metrics.\(c) END")
            }
        }
        sets.append("status = CASE WHEN \(newer) THEN excluded.status ELSE metrics.status END")
        sets.append("profile = CASE WHEN \(newer) THEN coalesce(excluded.profile, metrics.profile)"
                    + " ELSE coalesce(metrics.profile, excluded.profile) END")
        sets.append("last_update_ts = max(metrics.last_update_ts, excluded.last_update_ts)")
        sets.append("sample_count = metrics.sample_count + excluded.sample_count")
        return "INSERT INTO metrics (\(columns.joined(separator: ", "))) VALUES (\(placeholders))"
            + " ON CONFLICT (step_ts, server_name) DO UPDATE SET " + sets.joined(separator: ", ")
            + " RETURNING " + (metricColumns + ["status"]).joined(separator: ", ")
    }()

    /// The merged row as stored after an upsert.
    public struct MergedRow: Sendable {
        public var values: [Double]
        public var status: ServerStatus
    }

    /// Upserts `bucket` and returns the merged row.
    public static func upsert(_ bucket: StepBucket, on connection: SQLiteConnection) throws -> MergedRow {
        let statement = try connection.cached(key: "metrics.upsert", upsertSQL)
        defer { statement.reset() }
        var index: Int32 = 1
        try statement.bind(bucket.serverName, at: index); index += 1
        try statement.bind(bucket.stepTimestamp, at: index); index += 1
        for field in MetricField.allCases {
            let value = bucket.values[field.index]
            if field.isInteger { try statement.bind(Int64(value), at: index) } else { try statement.bind(value, at: index) }
            index += 1
        }
        try statement.bind(bucket.status.rawValue, at: index); index += 1
        try statement.bind(bucket.profile, at: index); index += 1
        try statement.bind(bucket.lastUpdate, at: index); index += 1
        try statement.bind(Int64(bucket.sampleCount), at: index)
        guard try statement.step() else {
            throw SQLiteError(code: 1, message: "upsert returned no row", sql: upsertSQL, operation: "step")
        }
        let row = readRow(statement, offset: 0)
        while try statement.step() {}
        return row
    }

    static func readRow(_ statement: SQLiteStatement, offset: Int32) -> MergedRow {
        var values = [Double](repeating: 0, count: MetricField.count)
        for i in 0..<MetricField.count { values[i] = statement.double(offset + Int32(i)) }
        let statusText = statement.string(offset + Int32(MetricField.count)) ?? ""
        return MergedRow(values: values, status: ServerStatus(rawValue: statusText) ?? .healthy)
    }

    static let serverUpsertSQL = """
        INSERT INTO servers (name, profile, first_seen, last_seen) VALUES (?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET
            profile = CASE WHEN excluded.last_seen >= servers.last_seen THEN coalesce(excluded.profile, servers.profile)
                           ELSE coalesce(servers.profile, excluded.profile) END,
            first_seen = min(servers.first_seen, excluded.first_seen),
            last_seen = max(servers.last_seen, excluded.last_seen)
        RETURNING profile
        """

    /// Records that `name` sent samples between `firstSeen` and `lastSeen`; returns the server's profile
    /// override after the merge.
    public static func upsertServer(name: String, profile: String?, firstSeen: Double, lastSeen: Double,
                                    on connection: SQLiteConnection) throws -> String?
    {
        let statement = try connection.cached(key: "servers.upsert", serverUpsertSQL)
        defer { statement.reset() }
        try statement.bind(name, at: 1)
        try statement.bind(profile, at: 2)
        try statement.bind(firstSeen, at: 3)
        try statement.bind(lastSeen, at: 4)
        guard try statement.step() else { return nil }
        let result = statement.string(0)
        while try statement.step() {}
        return result
    }

    // MARK: meta

    public static func setMeta(_ key: String, _ value: SQLiteValue, on connection: SQLiteConnection) throws {
        try connection.run("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                           [.text(key), value])
    }

    public static func meta(_ key: String, on connection: SQLiteConnection) throws -> SQLiteValue? {
        try connection.scalar("SELECT value FROM meta WHERE key = ?", [.text(key)])
    }

    // MARK: reading back

    /// A stored step bucket.
    public struct StoredStep: Sendable, Equatable {
        public var serverName: String
        public var stepTimestamp: Int64
        public var values: [Double]
        public var status: ServerStatus
        public var profile: String?
        public var lastUpdate: Double
        public var sampleCount: Int
    }

    static let selectColumns = (["server_name", "step_ts"] + metricColumns
        + ["status", "profile", "last_update_ts", "sample_count"]).joined(separator: ", ")

    static func storedStep(_ row: SQLiteStatement) -> StoredStep {
        let merged = readRow(row, offset: 2)
        let p = Int32(2 + MetricField.count)
        return StoredStep(serverName: row.string(0) ?? "", stepTimestamp: row.int64(1), values: merged.values,
                          status: merged.status, profile: row.string(p + 1), lastUpdate: row.double(p + 2),
                          sampleCount: Int(row.int64(p + 3)))
    }

    /// A skip-scan: walk the distinct `step_ts` values of the range (one primary-key seek each) and look
    /// up `(step, server)` in each (another seek). Cost ∝ distinct steps in the range, whatever the fleet size.
    static let serverStepsSQL = """
        WITH RECURSIVE t(ts) AS (
            SELECT (SELECT step_ts FROM metrics WHERE step_ts >= ?2 ORDER BY step_ts LIMIT 1)
            UNION ALL
            SELECT (SELECT step_ts FROM metrics WHERE step_ts > t.ts ORDER BY step_ts LIMIT 1) FROM t WHERE t.ts < ?3
        )
        SELECT \(selectColumns) FROM t CROSS JOIN metrics ON metrics.step_ts = t.ts AND metrics.server_name = ?1
        WHERE t.ts < ?3 ORDER BY t.ts
        """

    /// Steps of `server` with `fromStep ≤ step_ts < toStep`, oldest first. Give `toStep`: the read walks
    /// every distinct step of the fleet in the range (see ``serverStepsSQL``).
    public static func steps(server: String, from fromStep: Int64, to toStep: Int64 = .max,
                             on connection: SQLiteConnection) throws -> [StoredStep]
    {
        try connection.query(serverStepsSQL, [.text(server), .integer(fromStep), .integer(toStep)], storedStep)
    }

    /// Newest step of `server`, if it has any. Every row's `step_ts` is at most its sample's time, so at
    /// most the step of `servers.last_seen` — and almost always exactly that step (the newest sample's row):
    /// one primary-key lookup. Otherwise (that row was pruned, or `stepSeconds` is not given) a backward
    /// scan from `last_seen`, which visits up to a whole step of the fleet's rows per call (1,000 calls on
    /// a 10,000-server fleet: seconds). Without a `servers` row (not written by this code), a full scan.
    public static func latestStep(server: String, stepSeconds: Int64? = nil, on connection: SQLiteConnection) throws -> Int64? {
        if let lastSeen = try connection.scalar("SELECT last_seen FROM servers WHERE name = ?", [.text(server)])?.double {
            if let stepSeconds {
                let newest = StepBucket.stepStart(of: lastSeen, stepSeconds: stepSeconds)
                if try connection.scalar("SELECT 1 FROM metrics WHERE step_ts = ? AND server_name = ?",
                                         [.integer(newest), .text(server)]) != nil { return newest }
            }
            return try connection.scalar("SELECT step_ts FROM metrics WHERE step_ts <= ? AND server_name = ? ORDER BY step_ts DESC LIMIT 1",
                                         [.integer(Int64(lastSeen.rounded(.down))), .text(server)])?.int64
        }
        return try connection.scalar("SELECT step_ts FROM metrics WHERE server_name = ? ORDER BY step_ts DESC LIMIT 1",
                                     [.text(server)])?.int64
    }

    /// Whether `name` has a `servers` row — written in the same transaction as its first `metrics` rows
    /// and never deleted, so without one a server has no stored steps.
    public static func serverExists(_ name: String, on connection: SQLiteConnection) throws -> Bool {
        try connection.scalar("SELECT 1 FROM servers WHERE name = ?", [.text(name)]) != nil
    }

    /// Every row with `fromStep ≤ step_ts < toStep` in primary-key order (time, then server name): one
    /// range scan for many servers (restart, training export). `body` gets the server, the step and the
    /// row's metric values and status; `values` is reused between rows. `namesFrom` / `namesBefore`: only
    /// rows with `namesFrom ≤ server_name < namesBefore` in SQLite's byte order (the scan still walks every
    /// row of the time range, but reads only the matching ones).
    public static func forEachStep(from fromStep: Int64, to toStep: Int64 = .max, namesFrom: String? = nil, namesBefore: String? = nil,
                                   on connection: SQLiteConnection,
                                   _ body: (_ server: String, _ stepTimestamp: Int64, _ values: [Double], _ status: ServerStatus) throws -> Void)
        throws
    {
        var values = [Double](repeating: 0, count: MetricField.count)
        var statusCache: (text: String, status: ServerStatus)?
        try forEachStepRow(from: fromStep, to: toStep, namesFrom: namesFrom, namesBefore: namesBefore, on: connection) { statement in
            let name = statement.string(0) ?? ""
            for i in 0..<MetricField.count { values[i] = statement.double(Int32(2 + i)) }
            let text = statement.string(Int32(2 + MetricField.count)) ?? ""
            let status: ServerStatus
            if let cached = statusCache, cached.text == text { status = cached.status } else {
                status = ServerStatus(rawValue: text) ?? .healthy
                statusCache = (text, status)
            }
            try body(name, statement.int64(1), values, status)
        }
    }

    /// The restore's scan without per-row allocations: `body` reads the row from the statement (column 0 the
    /// server name, 1 `step_ts`, `2 ..< 2 + MetricField.count` the metrics, then the status text). Same rows
    /// and order as ``forEachStep(from:to:namesFrom:namesBefore:on:_:)``.
    static func forEachStepRow(from fromStep: Int64, to toStep: Int64, namesFrom: String? = nil, namesBefore: String? = nil,
                               on connection: SQLiteConnection, _ body: (SQLiteStatement) throws -> Void) throws {
        let statement = try connection.prepare("SELECT server_name, step_ts, " + (metricColumns + ["status"]).joined(separator: ", ")
                                               + " FROM metrics WHERE step_ts >= ?1 AND step_ts < ?2"
                                               + (namesFrom == nil ? "" : " AND server_name >= ?3") + (namesBefore == nil ? "" : " AND server_name < ?4")
                                               + " ORDER BY step_ts, server_name")
        try statement.bind(fromStep, at: 1)
        try statement.bind(toStep, at: 2)
        if let namesFrom { try statement.bind(namesFrom, at: 3) }
        if let namesBefore { try statement.bind(namesBefore, at: 4) }
        while try statement.step() { try body(statement) }
    }

    /// Deletes up to `limit` metrics rows with `step_ts < cutoff`; returns how many were deleted.
    public static func pruneBatch(olderThan cutoff: Int64, limit: Int, on connection: SQLiteConnection) throws -> Int {
        try connection.run("""
            DELETE FROM metrics WHERE (step_ts, server_name) IN
                (SELECT step_ts, server_name FROM metrics WHERE step_ts < ? ORDER BY step_ts LIMIT ?)
            """, [.integer(cutoff), .integer(Int64(limit))])
        return connection.changes
    }
}
