/// The telemetry console's own SQLite schema (`data/modules/telemetry.sqlite`). **Append** migrations with
/// the next version; never edit one that has shipped. Times are epoch seconds (REAL), JSON columns are TEXT.
enum TelemetrySchema {
    static let migrations: [Migration] = [core]

    /// v1: HTM tasks and intents, ingestion jobs and recordings, the vault, crypto checks, learning,
    /// remote sessions, stress tests and key/value settings.
    static let core = Migration(version: 1, name: "telemetry core", sql: """
        CREATE TABLE intents (
            id           TEXT PRIMARY KEY NOT NULL,
            goal         TEXT NOT NULL,
            origin       TEXT NOT NULL,              -- filesystem | remote | hunter
            created_at   REAL NOT NULL
        );
        CREATE TABLE htm_tasks (
            id               TEXT PRIMARY KEY NOT NULL,
            intent_id        TEXT NOT NULL REFERENCES intents(id),
            origin           TEXT NOT NULL,          -- filesystem | remote | hunter
            kind             TEXT NOT NULL,          -- checksum | synthetic | investigate | recording_ingest | policy_check
            description      TEXT NOT NULL,
            status           TEXT NOT NULL,          -- pending | active | completed | failed
            priority         TEXT NOT NULL,          -- low | normal | high | critical
            size_bytes       INTEGER NOT NULL,
            payload          TEXT NOT NULL,          -- JSON
            kernel_affinity  TEXT,                   -- only this kernel may run it (kernel stress)
            kernel_id        TEXT,                   -- the kernel that ran it
            sla_ms           INTEGER NOT NULL,
            sla_met          INTEGER,                -- 1/0 once known
            escalated_at     REAL,                   -- set by the SLA enforcer
            attempt          INTEGER NOT NULL DEFAULT 1,
            created_at       REAL NOT NULL,
            started_at       REAL,
            completed_at     REAL,
            duration_seconds REAL,
            result           TEXT,                   -- JSON
            error            TEXT
        );
        CREATE INDEX htm_tasks_created ON htm_tasks (created_at);
        CREATE INDEX htm_tasks_status ON htm_tasks (status);
        CREATE INDEX htm_tasks_intent ON htm_tasks (intent_id);
        CREATE TABLE priority_overrides (
            id           INTEGER PRIMARY KEY,
            task_id      TEXT NOT NULL,
            old_priority TEXT NOT NULL,
            new_priority TEXT NOT NULL,
            reason       TEXT NOT NULL,
            client       TEXT NOT NULL,
            at           REAL NOT NULL
        );
        CREATE TABLE recordings (
            id               TEXT PRIMARY KEY NOT NULL,
            type             TEXT NOT NULL,          -- voice | screen | video
            filename         TEXT NOT NULL UNIQUE,
            path             TEXT NOT NULL,
            size_bytes       INTEGER NOT NULL,
            ingestion_status TEXT NOT NULL,          -- pending | processing | completed | failed
            created_at       REAL NOT NULL
        );
        CREATE TABLE ingestion_jobs (
            id                 TEXT PRIMARY KEY NOT NULL,
            recording_id       TEXT,
            source             TEXT NOT NULL,        -- recording | filesystem
            task_id            TEXT,
            status             TEXT NOT NULL,        -- queued | processing | completed | failed
            progress_percent   INTEGER NOT NULL,
            current_step       TEXT,
            size_bytes         INTEGER NOT NULL,
            created_at         REAL NOT NULL,
            completed_at       REAL,
            duration_seconds   REAL,
            estimated_seconds  REAL,
            result             TEXT,                 -- JSON
            error              TEXT
        );
        CREATE INDEX ingestion_jobs_created ON ingestion_jobs (created_at);
        CREATE TABLE secrets (
            id          TEXT PRIMARY KEY NOT NULL,
            name        TEXT NOT NULL UNIQUE,
            category    TEXT NOT NULL,
            nonce       BLOB NOT NULL,
            ciphertext  BLOB NOT NULL,
            tag         BLOB NOT NULL,
            key_id      TEXT NOT NULL,               -- SHA-256 prefix of the vault key that sealed it
            created_at  REAL NOT NULL
        );
        CREATE TABLE secret_audit (
            id        INTEGER PRIMARY KEY,
            secret_id TEXT,
            name      TEXT NOT NULL,
            action    TEXT NOT NULL,                 -- stored | rejected_consent | rejected_duplicate
            client    TEXT NOT NULL,
            at        REAL NOT NULL
        );
        CREATE TABLE crypto_checks (
            id       INTEGER PRIMARY KEY,
            subject  TEXT NOT NULL,                  -- model file or vault item
            kind     TEXT NOT NULL,                  -- model_manifest | vault_seal
            ok       INTEGER NOT NULL,
            detail   TEXT,
            at       REAL NOT NULL
        );
        CREATE TABLE retrospectives (
            id           TEXT PRIMARY KEY NOT NULL,
            cycle_name   TEXT NOT NULL,
            insights     TEXT NOT NULL,              -- JSON array of strings
            improvements TEXT NOT NULL,              -- JSON array of strings
            metrics      TEXT NOT NULL,              -- JSON object
            at           REAL NOT NULL
        );
        CREATE TABLE playbook_executions (
            id               INTEGER PRIMARY KEY,
            playbook_name    TEXT NOT NULL,
            success          INTEGER NOT NULL,
            duration_seconds REAL NOT NULL,
            detail           TEXT,
            at               REAL NOT NULL
        );
        CREATE TABLE policy_suggestions (
            id             TEXT PRIMARY KEY NOT NULL,
            rule           TEXT NOT NULL,
            policy_area    TEXT NOT NULL,            -- security | performance | reliability | cost
            suggestion     TEXT NOT NULL,
            confidence     REAL NOT NULL,
            evidence       TEXT NOT NULL,            -- JSON array of strings
            status         TEXT NOT NULL,            -- pending | accepted | under_review | rejected
            created_at     REAL NOT NULL,
            responded_at   REAL,
            notes          TEXT,
            follow_up_at   REAL,
            task_id        TEXT
        );
        CREATE TABLE remote_sessions (
            id             TEXT PRIMARY KEY NOT NULL,
            user           TEXT NOT NULL,
            client_address TEXT NOT NULL,
            started_at     REAL NOT NULL,
            last_seen_at   REAL NOT NULL,
            ended_at       REAL,
            request_count  INTEGER NOT NULL
        );
        CREATE TABLE stress_tests (
            id                   TEXT PRIMARY KEY NOT NULL,
            test_type            TEXT NOT NULL,
            intensity            TEXT NOT NULL,
            duration_minutes     REAL NOT NULL,
            status               TEXT NOT NULL,      -- running | completed | failed
            started_at           REAL NOT NULL,
            estimated_completion REAL NOT NULL,
            completed_at         REAL,
            progress_percent     INTEGER NOT NULL,
            current_metrics      TEXT,               -- JSON
            results              TEXT,               -- JSON
            error                TEXT
        );
        CREATE TABLE settings (
            key   TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        );
        """)
}
