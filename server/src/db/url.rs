//! `DATABASE_URL`: which backend it names, and how to show it without its password.

/// The database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    MariaDb,
}

impl Backend {
    pub fn of(url: &str) -> Option<Backend> {
        match url.split(':').next()? {
            "sqlite" => Some(Backend::Sqlite),
            "mysql" | "mariadb" => Some(Backend::MariaDb),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::MariaDb => "MariaDB",
        }
    }
}

/// The URL with its password, if any, replaced by `***`, for errors and logs.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    // The user information ends at the last '@' before any query: a password may hold an
    // unencoded '@' or '/', and all of it is hidden.
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..end].rfind('@') else {
        return url.to_string();
    };
    let (user_info, host_and_tail) = rest.split_at(at);
    let user = match user_info.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => user_info.to_string(),
    };
    format!("{scheme}://{user}{host_and_tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_names_the_backend() {
        assert_eq!(Backend::of("sqlite://data/x.db"), Some(Backend::Sqlite));
        assert_eq!(Backend::of("sqlite:x.db"), Some(Backend::Sqlite));
        assert_eq!(Backend::of("mysql://u:p@h/db"), Some(Backend::MariaDb));
        assert_eq!(Backend::of("mariadb://u:p@h/db"), Some(Backend::MariaDb));
        assert_eq!(Backend::of("postgres://u:p@h/db"), None);
    }

    #[test]
    fn a_password_is_never_shown() {
        assert_eq!(
            redacted("mysql://icantkube:s3cr@t:/x@db.local:3306/plant?ssl-mode=required"),
            "mysql://icantkube:***@db.local:3306/plant?ssl-mode=required"
        );
        assert_eq!(
            redacted("mysql://reader@db/plant"),
            "mysql://reader@db/plant"
        );
        assert_eq!(
            redacted("sqlite://data/icantkube.db"),
            "sqlite://data/icantkube.db"
        );
        assert_eq!(redacted("postgres://a:b@h"), "postgres://a:***@h");
    }
}
