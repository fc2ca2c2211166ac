/// Autopack's tables in its own database (`<data-dir>/modules/autopack.sqlite`). **Append** migrations with
/// the next version; never edit one that has shipped. Times are epoch seconds (REAL, UTC); JSON columns hold
/// JSON text.
enum AutopackSchema {
    static let migrations: [Migration] = [core, oauthCredentials]

    /// v1: runs, tiers, phases, issues, errors, approvals, governance, artifacts, usage, model overrides,
    /// A/B results, human notes, storage scans and learned rules, uploads, research sessions.
    static let core = Migration(version: 1, name: "autopack core", sql: """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY NOT NULL,
            state TEXT NOT NULL,
            safety_profile TEXT NOT NULL,
            run_scope TEXT NOT NULL,
            token_cap INTEGER NOT NULL,
            max_phases INTEGER NOT NULL,
            max_duration_minutes INTEGER NOT NULL,
            tokens_used INTEGER NOT NULL DEFAULT 0,
            ci_runs_used INTEGER NOT NULL DEFAULT 0,
            minor_issues_count INTEGER NOT NULL DEFAULT 0,
            major_issues_count INTEGER NOT NULL DEFAULT 0,
            max_minor_issues_total INTEGER NOT NULL,
            failure_reason TEXT,
            ab_test_id TEXT,
            ab_role TEXT,
            created_at REAL NOT NULL,
            started_at REAL,
            completed_at REAL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX runs_created ON runs (created_at DESC);

        CREATE TABLE tiers (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(id),
            tier_id TEXT NOT NULL,
            tier_index INTEGER NOT NULL,
            name TEXT NOT NULL,
            description TEXT,
            state TEXT NOT NULL,
            minor_issues_count INTEGER NOT NULL DEFAULT 0,
            major_issues_count INTEGER NOT NULL DEFAULT 0,
            UNIQUE (run_id, tier_id)
        );

        CREATE TABLE phases (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(id),
            phase_id TEXT NOT NULL,
            tier_id TEXT NOT NULL,
            phase_index INTEGER NOT NULL,
            name TEXT NOT NULL,
            description TEXT,
            task_category TEXT,
            complexity TEXT,
            builder_mode TEXT,
            scope TEXT NOT NULL,
            intention_refs TEXT,
            state TEXT NOT NULL,
            builder_attempts INTEGER NOT NULL DEFAULT 0,
            auditor_attempts INTEGER NOT NULL DEFAULT 0,
            tokens_used INTEGER NOT NULL DEFAULT 0,
            minor_issues_count INTEGER NOT NULL DEFAULT 0,
            major_issues_count INTEGER NOT NULL DEFAULT 0,
            quality_level TEXT,
            quality_blocked INTEGER NOT NULL DEFAULT 0,
            last_builder_status TEXT,
            last_recommendation TEXT,
            updated_at REAL NOT NULL,
            UNIQUE (run_id, phase_id)
        );

        CREATE TABLE issues (
            run_id TEXT NOT NULL,
            phase_id TEXT NOT NULL,
            tier_id TEXT NOT NULL,
            issue_key TEXT NOT NULL,
            severity TEXT NOT NULL,
            source TEXT NOT NULL,
            category TEXT NOT NULL,
            task_category TEXT,
            complexity TEXT,
            evidence_refs TEXT NOT NULL,
            occurrence_count INTEGER NOT NULL,
            first_seen REAL NOT NULL,
            last_seen REAL NOT NULL,
            PRIMARY KEY (run_id, phase_id, issue_key)
        ) WITHOUT ROWID;

        CREATE TABLE errors (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL,
            phase_id TEXT,
            source TEXT NOT NULL,
            error_type TEXT NOT NULL,
            message TEXT NOT NULL,
            details TEXT,
            created_at REAL NOT NULL
        );
        CREATE INDEX errors_run ON errors (run_id, id);

        CREATE TABLE approvals (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL,
            phase_id TEXT NOT NULL,
            context TEXT NOT NULL,
            decision_info TEXT NOT NULL,
            deletion_info TEXT,
            status TEXT NOT NULL,
            requested_at REAL NOT NULL,
            responded_at REAL,
            timeout_at REAL NOT NULL,
            approval_reason TEXT,
            rejected_reason TEXT,
            response_method TEXT,
            origin TEXT NOT NULL DEFAULT 'api',
            telegram_sent INTEGER NOT NULL DEFAULT 0,
            telegram_error TEXT
        );
        CREATE INDEX approvals_status ON approvals (status, timeout_at);

        CREATE TABLE governance_requests (
            request_id TEXT PRIMARY KEY NOT NULL,
            run_id TEXT NOT NULL,
            phase_id TEXT NOT NULL,
            requested_paths TEXT NOT NULL,
            justification TEXT NOT NULL,
            risk_level TEXT NOT NULL,
            lines_changed INTEGER NOT NULL,
            auto_approved INTEGER NOT NULL,
            approved INTEGER,
            approved_by TEXT,
            created_at REAL NOT NULL,
            decided_at REAL
        );

        CREATE TABLE artifacts (
            run_id TEXT NOT NULL,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            modified_at REAL NOT NULL,
            PRIMARY KEY (run_id, path)
        ) WITHOUT ROWID;

        CREATE TABLE usage_events (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL,
            phase_id TEXT,
            role TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE INDEX usage_events_time ON usage_events (created_at);
        CREATE INDEX usage_events_run ON usage_events (run_id);

        CREATE TABLE model_overrides (
            id INTEGER PRIMARY KEY,
            scope TEXT NOT NULL,
            run_id TEXT,
            role TEXT NOT NULL,
            category TEXT NOT NULL,
            complexity TEXT NOT NULL,
            model TEXT NOT NULL,
            created_at REAL NOT NULL
        );

        CREATE TABLE ab_test_results (
            test_id TEXT PRIMARY KEY NOT NULL,
            control_run_id TEXT NOT NULL,
            treatment_run_id TEXT NOT NULL,
            is_valid INTEGER NOT NULL,
            validity_errors TEXT NOT NULL,
            token_delta INTEGER NOT NULL,
            time_delta_seconds REAL NOT NULL,
            success_rate_delta REAL NOT NULL,
            control_total_tokens INTEGER NOT NULL,
            treatment_total_tokens INTEGER NOT NULL,
            control_phases_complete INTEGER NOT NULL,
            treatment_phases_complete INTEGER NOT NULL,
            control_phases_failed INTEGER NOT NULL,
            treatment_phases_failed INTEGER NOT NULL,
            created_at REAL NOT NULL,
            created_by TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE human_notes (
            id INTEGER PRIMARY KEY,
            run_id TEXT,
            note TEXT NOT NULL,
            created_at REAL NOT NULL
        );

        CREATE TABLE storage_scans (
            id INTEGER PRIMARY KEY,
            scan_type TEXT NOT NULL,
            scan_target TEXT NOT NULL,
            total_items INTEGER NOT NULL,
            total_size_bytes INTEGER NOT NULL,
            candidates_count INTEGER NOT NULL,
            potential_savings_bytes INTEGER NOT NULL,
            truncated INTEGER NOT NULL,
            created_by TEXT,
            created_at REAL NOT NULL
        );
        CREATE TABLE storage_candidates (
            id INTEGER PRIMARY KEY,
            scan_id INTEGER NOT NULL REFERENCES storage_scans(id),
            path TEXT NOT NULL,
            category TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            modified_at REAL NOT NULL,
            reason TEXT NOT NULL,
            decision TEXT,
            decided_by TEXT,
            decided_at REAL
        );
        CREATE INDEX storage_candidates_scan ON storage_candidates (scan_id);
        CREATE TABLE learned_rules (
            id INTEGER PRIMARY KEY,
            pattern_type TEXT NOT NULL,
            pattern_value TEXT NOT NULL,
            suggested_category TEXT NOT NULL,
            confidence REAL NOT NULL,
            samples INTEGER NOT NULL,
            approvals INTEGER NOT NULL,
            status TEXT NOT NULL,
            approved_by TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (pattern_type, pattern_value)
        );

        CREATE TABLE uploads (
            id TEXT PRIMARY KEY NOT NULL,
            filename TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            created_at REAL NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE research_sessions (
            id TEXT PRIMARY KEY NOT NULL,
            query TEXT NOT NULL,
            status TEXT NOT NULL,
            findings TEXT NOT NULL,
            created_at REAL NOT NULL
        ) WITHOUT ROWID;
        """)

    /// v2: OAuth credential lifecycle (§9): credential metadata (never the secrets) and their events.
    static let oauthCredentials = Migration(version: 2, name: "oauth credentials", sql: """
        CREATE TABLE oauth_credentials (
            provider TEXT PRIMARY KEY NOT NULL,
            expires_at REAL NOT NULL,
            scopes TEXT NOT NULL,
            last_refresh_at REAL,
            last_refresh_result TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            paused INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE oauth_events (
            id INTEGER PRIMARY KEY,
            provider TEXT NOT NULL,
            event_type TEXT NOT NULL,
            detail TEXT,
            created_at REAL NOT NULL
        );
        CREATE INDEX oauth_events_provider ON oauth_events (provider, id);
        """)
}
