/// The history tables (docs/history.md, "Schema"). Appended to `ArgusMigrations.all` as one migration.
public enum HistorySchema {
    /// Creates the alert events, alert state, environment snapshot and risk sample tables.
    public static func migration(version: Int) -> Migration {
        Migration(version: version, name: "history", sql: sql)
    }

    static let sql = """
        CREATE TABLE history_alert_events (
            id                          INTEGER PRIMARY KEY,
            ts                          INTEGER NOT NULL,  -- epoch seconds (UTC) of the event
            server_name                 TEXT    NOT NULL,
            event_type                  TEXT    NOT NULL,  -- escalated | de-escalated | resolved
            previous_level              TEXT    NOT NULL,
            new_level                   TEXT    NOT NULL,
            risk_score                  REAL    NOT NULL,
            episode_start               INTEGER NOT NULL,  -- ts of the escalation out of healthy
            resolved_at                 INTEGER,           -- set when the episode resolves
            resolution_duration_minutes REAL,              -- resolved_at - ts (resolved rows: the episode's length)
            peak_level                  TEXT,              -- resolved rows: highest level of the episode
            caused_incident             INTEGER NOT NULL DEFAULT 0,  -- the episode saw an observed critical breach
            notes                       TEXT
        );
        CREATE INDEX history_alert_events_ts ON history_alert_events (ts);
        CREATE INDEX history_alert_events_server_ts ON history_alert_events (server_name, ts);

        CREATE TABLE history_alert_state (               -- trackers that are not quiet, for restart
            server_name       TEXT PRIMARY KEY NOT NULL,
            level             INTEGER NOT NULL,
            episode_start     INTEGER,
            peak_level        INTEGER NOT NULL,
            observed_critical INTEGER NOT NULL,
            recent            TEXT    NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE history_environment (
            ts              INTEGER PRIMARY KEY NOT NULL,
            total_servers   INTEGER NOT NULL,
            critical_count  INTEGER NOT NULL,
            warning_count   INTEGER NOT NULL,
            degraded_count  INTEGER NOT NULL,
            healthy_count   INTEGER NOT NULL,
            prob_30m        REAL,
            prob_8h         REAL,
            avg_risk_score  REAL    NOT NULL,
            max_risk_score  REAL    NOT NULL,
            top_risk_server TEXT,
            fleet_health    REAL    NOT NULL
        );

        CREATE TABLE history_risk_samples (
            server_name TEXT    NOT NULL,
            ts          INTEGER NOT NULL,
            risk_score  REAL    NOT NULL,
            level       INTEGER NOT NULL,   -- HistoryLevel raw value of this tick (no hold)
            PRIMARY KEY (server_name, ts)
        ) WITHOUT ROWID;
        CREATE INDEX history_risk_samples_ts ON history_risk_samples (ts);
        """
}
