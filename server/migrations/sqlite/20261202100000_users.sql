-- Named users with a role (viewer, engineer, admin), besides the bootstrap admin of
-- ICANTKUBE_ADMIN_PASSWORD(_HASH), who has no row. Passwords are argon2 PHC strings.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'engineer', 'admin')),
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);

-- A session is the bootstrap admin's (NULL) or a user's; a user's ends with the user.
ALTER TABLE admin_sessions ADD COLUMN user_id INTEGER NULL REFERENCES users (id) ON DELETE CASCADE;
CREATE INDEX admin_sessions_by_user ON admin_sessions (user_id);
