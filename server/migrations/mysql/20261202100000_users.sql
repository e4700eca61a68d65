-- Named users with a role (viewer, engineer, admin), besides the bootstrap admin of
-- ICANTKUBE_ADMIN_PASSWORD(_HASH), who has no row. Passwords are argon2 PHC strings.
CREATE TABLE users (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(64) NOT NULL UNIQUE,
    role VARCHAR(16) NOT NULL CHECK (role IN ('viewer', 'engineer', 'admin')),
    password_hash VARCHAR(255) NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    created_by VARCHAR(64) NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by VARCHAR(64) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

-- A session is the bootstrap admin's (NULL) or a user's; a user's ends with the user.
ALTER TABLE admin_sessions ADD COLUMN user_id BIGINT NULL,
    ADD CONSTRAINT admin_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
