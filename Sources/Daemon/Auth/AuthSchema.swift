/// The auth database (`<data-dir>/auth/auth.sqlite`): users shared by every module, login sessions, and
/// revoked token ids. Append migrations; never edit one that has shipped.
enum AuthSchema {
    static let migrations: [Migration] = [
        Migration(version: 1, name: "users, sessions, revoked tokens", sql: """
            CREATE TABLE users (
                id            INTEGER PRIMARY KEY AUTOINCREMENT,
                username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
                email         TEXT    UNIQUE COLLATE NOCASE,
                full_name     TEXT,
                password_hash TEXT    NOT NULL,
                roles         TEXT    NOT NULL DEFAULT '["user"]',   -- JSON array of role names
                is_active     INTEGER NOT NULL DEFAULT 1,
                is_superuser  INTEGER NOT NULL DEFAULT 0,
                created_at    REAL    NOT NULL,
                updated_at    REAL    NOT NULL,
                last_login_at REAL
            );
            -- One row per login: the jtis its current access and refresh tokens carry (rotated on refresh).
            CREATE TABLE sessions (
                id          TEXT    PRIMARY KEY,
                user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                access_jti  TEXT    NOT NULL,
                refresh_jti TEXT    NOT NULL,
                created_at  REAL    NOT NULL,
                expires_at  REAL    NOT NULL,
                revoked_at  REAL
            );
            CREATE INDEX sessions_by_user ON sessions(user_id);
            -- Token ids refused until their token would have expired anyway (then pruned).
            CREATE TABLE revoked_tokens (
                jti        TEXT PRIMARY KEY,
                expires_at REAL NOT NULL,
                revoked_at REAL NOT NULL
            );
            """),
    ]
}
