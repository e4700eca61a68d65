//! A machine's URL-safe name.

use std::fmt;

/// 1 to 64 characters of lowercase ASCII letters, digits, `-` and `_`, starting with a letter
/// or digit, so it can stand in a URL path and a Prometheus label as-is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MachineName(String);

impl MachineName {
    pub fn parse(text: &str) -> Result<MachineName, String> {
        let valid_char =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if text.is_empty() || text.len() > 64 {
            return Err(format!(
                "machine name must be 1 to 64 characters long, got {}",
                text.len()
            ));
        }
        if !text.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) {
            return Err(format!(
                "machine name {text:?} must start with a lowercase letter or a digit"
            ));
        }
        if let Some(bad) = text.chars().find(|c| !valid_char(*c)) {
            return Err(format!(
                "machine name {text:?} may hold only lowercase letters, digits, '-' and '_', not {bad:?}"
            ));
        }
        Ok(MachineName(text.to_string()))
    }
}

impl AsRef<str> for MachineName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MachineName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::MachineName;

    #[test]
    fn url_safe_names_are_accepted() {
        for name in ["mill-01", "a", "press_7", "0xdead"] {
            assert!(MachineName::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn names_with_upper_case_spaces_or_markup_are_rejected() {
        for name in ["Mill", "mill 1", "<script>", "-lead", "", &"x".repeat(65)] {
            assert!(MachineName::parse(name).is_err(), "{name}");
        }
    }
}
