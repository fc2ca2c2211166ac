/// The orchestration module's tables in its own database (`modules/orchestration.sqlite`), versioned like
/// the Argus tables. Times are epoch seconds (REAL); JSON documents are TEXT.
enum OrchestrationSchema {
    static let migrations: [Migration] = [
        Migration(version: 1, name: "orchestration projects, tasks, events, breakers, agents, hrm", sql: """
        CREATE TABLE projects (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL, github_repo TEXT,
            slot TEXT NOT NULL UNIQUE, config TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL);
        CREATE TABLE tasks (
            id TEXT PRIMARY KEY, project_id TEXT REFERENCES projects(id) ON DELETE CASCADE, issue_number INTEGER,
            title TEXT NOT NULL, description TEXT, labels TEXT NOT NULL, prompt TEXT NOT NULL, task_type TEXT NOT NULL,
            files TEXT NOT NULL, workspace TEXT NOT NULL, requires_security INTEGER NOT NULL, requested_agent TEXT,
            status TEXT NOT NULL, assigned_agent TEXT, selected_agent TEXT, selection_reason TEXT, agent_switches INTEGER NOT NULL DEFAULT 0,
            current_iteration INTEGER NOT NULL DEFAULT 0, max_iterations INTEGER NOT NULL,
            current_quality REAL NOT NULL DEFAULT 0, final_quality REAL, tests_passing INTEGER NOT NULL DEFAULT 0,
            security_issues INTEGER NOT NULL DEFAULT 0, test_coverage REAL, security_score REAL,
            started_at REAL, completed_at REAL, duration_seconds REAL, estimated_cost REAL NOT NULL, actual_cost REAL,
            tokens INTEGER NOT NULL DEFAULT 0, tokens_uncompressed INTEGER NOT NULL DEFAULT 0, content TEXT,
            session_id TEXT NOT NULL, error TEXT, attempt INTEGER NOT NULL DEFAULT 1, hrm_config_id TEXT, preset_id TEXT,
            created_at REAL NOT NULL, updated_at REAL NOT NULL);
        CREATE INDEX tasks_by_project ON tasks(project_id, created_at);
        CREATE INDEX tasks_by_status ON tasks(status, created_at);
        -- One row per provider call (iteration) and per agent switch: the source of every cost/agent metric.
        CREATE TABLE task_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
            project_id TEXT, kind TEXT NOT NULL, agent TEXT NOT NULL, to_agent TEXT, reason TEXT, attempt INTEGER NOT NULL,
            iteration INTEGER, quality REAL, tokens INTEGER, cost REAL, duration REAL, ok INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL);
        CREATE INDEX task_events_by_time ON task_events(created_at);
        CREATE INDEX task_events_by_task ON task_events(task_id);
        CREATE TABLE circuit_breakers (
            agent TEXT PRIMARY KEY, state TEXT NOT NULL, failure_count INTEGER NOT NULL, last_failure REAL,
            updated_at REAL NOT NULL);
        CREATE TABLE agent_rewards (agent TEXT PRIMARY KEY, reward REAL NOT NULL, updates INTEGER NOT NULL, updated_at REAL NOT NULL);
        CREATE TABLE agent_connections (
            agent_id TEXT PRIMARY KEY, agent_name TEXT NOT NULL, agent_type TEXT, connection_type TEXT NOT NULL,
            endpoint TEXT, port INTEGER, api_key_id TEXT, enabled INTEGER NOT NULL, created_at REAL NOT NULL,
            updated_at REAL NOT NULL);
        CREATE TABLE hrm_configs (
            id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE, task_id TEXT,
            config TEXT NOT NULL, preset_name TEXT, updated_by TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL);
        CREATE UNIQUE INDEX hrm_configs_scope ON hrm_configs(project_id, COALESCE(task_id, ''));
        CREATE TABLE hrm_config_history (
            id TEXT PRIMARY KEY, config_id TEXT NOT NULL, changed_by TEXT NOT NULL, change_type TEXT NOT NULL,
            old_config TEXT, new_config TEXT NOT NULL, impact TEXT NOT NULL, created_at REAL NOT NULL);
        CREATE INDEX hrm_history_by_config ON hrm_config_history(config_id, created_at);
        CREATE TABLE hrm_presets (
            id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL, icon TEXT NOT NULL, color TEXT NOT NULL,
            visibility TEXT NOT NULL, builtin INTEGER NOT NULL, config TEXT NOT NULL, usage_count INTEGER NOT NULL DEFAULT 0,
            last_used_at REAL, created_at REAL NOT NULL, updated_at REAL NOT NULL);
        """),
    ]
}
