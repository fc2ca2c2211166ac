/// The supervisor's database (`<data-dir>/modules/supervisor.sqlite`). Users live in the shared auth database.
/// JSON columns hold JSON text. Append migrations; never edit one that has shipped.
enum SupervisorSchema {
    static let migrations: [Migration] = [
        Migration(version: 1, name: "supervisor core", sql: """
            CREATE TABLE tasks (
                id                INTEGER PRIMARY KEY AUTOINCREMENT,
                type              TEXT    NOT NULL,
                status            TEXT    NOT NULL,
                priority          INTEGER NOT NULL,
                payload           TEXT    NOT NULL,
                result            TEXT,
                error_message     TEXT,
                assigned_agent_id TEXT,
                retry_count       INTEGER NOT NULL DEFAULT 0,
                retry_at          REAL,
                created_by        INTEGER,
                workflow_execution_id TEXT,
                created_at        REAL    NOT NULL,
                updated_at        REAL    NOT NULL
            );
            CREATE INDEX tasks_by_status ON tasks(status, priority DESC, id);
            CREATE TABLE task_sessions (
                id                     INTEGER PRIMARY KEY AUTOINCREMENT,
                task_id                INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
                agent_id               TEXT    NOT NULL,
                provider_id            TEXT    NOT NULL,
                prompt                 TEXT    NOT NULL,
                response               TEXT,
                result                 TEXT,
                success                INTEGER NOT NULL,
                execution_time_seconds REAL    NOT NULL,
                created_at             REAL    NOT NULL
            );
            CREATE TABLE agents (
                id             TEXT    PRIMARY KEY,
                quota_used     INTEGER NOT NULL DEFAULT 0,
                quota_limit    INTEGER NOT NULL,
                quota_reset_at REAL    NOT NULL,
                is_active      INTEGER NOT NULL DEFAULT 1,
                last_used_at   REAL,
                created_at     REAL    NOT NULL
            );
            CREATE TABLE audit_logs (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                event_type TEXT NOT NULL,
                user_id    INTEGER,
                agent_id   TEXT,
                task_id    INTEGER,
                details    TEXT NOT NULL,
                ip_address TEXT,
                timestamp  REAL NOT NULL
            );
            CREATE INDEX audit_by_time ON audit_logs(timestamp);
            -- Every measurement analytics reads: task runs, system samples, provider calls, workflow runs.
            CREATE TABLE metric_entries (
                id          INTEGER PRIMARY KEY AUTOINCREMENT,
                metric_type TEXT NOT NULL,
                name        TEXT NOT NULL,
                value       REAL NOT NULL,
                labels      TEXT NOT NULL,
                recorded_at REAL NOT NULL
            );
            CREATE INDEX metrics_by_type_time ON metric_entries(metric_type, recorded_at);
            CREATE TABLE workflows (
                id          TEXT    PRIMARY KEY,
                name        TEXT    NOT NULL,
                description TEXT,
                definition  TEXT    NOT NULL,
                created_by  INTEGER,
                version     INTEGER NOT NULL DEFAULT 1,
                is_active   INTEGER NOT NULL DEFAULT 1,
                created_at  REAL    NOT NULL,
                updated_at  REAL    NOT NULL
            );
            CREATE TABLE workflow_executions (
                id              TEXT PRIMARY KEY,
                workflow_id     TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
                status          TEXT NOT NULL,
                triggered_by    TEXT NOT NULL,
                context         TEXT NOT NULL,
                result          TEXT,
                error_message   TEXT,
                task_executions TEXT NOT NULL,
                started_at      REAL NOT NULL,
                completed_at    REAL
            );
            CREATE INDEX executions_by_workflow ON workflow_executions(workflow_id, started_at);
            CREATE TABLE schedules (
                id              TEXT PRIMARY KEY,
                workflow_id     TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
                name            TEXT NOT NULL,
                cron_expression TEXT NOT NULL,
                timezone        TEXT NOT NULL,
                status          TEXT NOT NULL,
                context         TEXT NOT NULL,
                next_run_at     REAL,
                last_run_at     REAL,
                run_count       INTEGER NOT NULL DEFAULT 0,
                created_at      REAL NOT NULL,
                updated_at      REAL NOT NULL
            );
            CREATE TABLE providers (
                id         TEXT    PRIMARY KEY,
                type       TEXT    NOT NULL,
                config     TEXT    NOT NULL,
                priority   INTEGER NOT NULL,
                enabled    INTEGER NOT NULL,
                built_in   INTEGER NOT NULL,
                created_at REAL    NOT NULL
            );
            CREATE TABLE plugins (
                name       TEXT PRIMARY KEY,
                status     TEXT NOT NULL,
                config     TEXT NOT NULL,
                updated_at REAL NOT NULL
            );
            CREATE TABLE plugin_events (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                event_type TEXT NOT NULL,
                source     TEXT NOT NULL,
                data       TEXT NOT NULL,
                timestamp  REAL NOT NULL
            );
            CREATE TABLE alert_rules (
                id         TEXT PRIMARY KEY,
                name       TEXT NOT NULL,
                metric     TEXT NOT NULL,
                condition  TEXT NOT NULL,
                threshold  REAL NOT NULL,
                severity   TEXT NOT NULL,
                enabled    INTEGER NOT NULL,
                created_at REAL NOT NULL
            );
            CREATE TABLE alerts (
                id            TEXT PRIMARY KEY,
                rule_id       TEXT NOT NULL,
                rule_name     TEXT NOT NULL,
                metric        TEXT NOT NULL,
                current_value REAL NOT NULL,
                threshold     REAL NOT NULL,
                severity      TEXT NOT NULL,
                message       TEXT NOT NULL,
                status        TEXT NOT NULL,
                triggered_at  REAL NOT NULL,
                resolved_at   REAL
            );
            CREATE TABLE allocations (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                task_id    INTEGER,
                task_type  TEXT NOT NULL,
                cpu_cores  REAL NOT NULL,
                memory_mb  REAL NOT NULL,
                status     TEXT NOT NULL,
                created_at REAL NOT NULL
            );
            CREATE TABLE conflicts (
                id          TEXT PRIMARY KEY,
                type        TEXT NOT NULL,
                severity    TEXT NOT NULL,
                description TEXT NOT NULL,
                status      TEXT NOT NULL,
                resolution  TEXT,
                detected_at REAL NOT NULL,
                resolved_at REAL
            );
            CREATE TABLE settings (
                key   TEXT PRIMARY KEY,
                value TEXT NOT NULL
            );
            """),
    ]
}
