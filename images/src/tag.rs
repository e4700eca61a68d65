//! An image tag, checked against Docker's grammar before anything is read or written.

use std::fmt;

use crate::{Error, Result};

/// A valid Docker tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageTag(String);

impl ImageTag {
    /// Checks `tag` against the grammar.
    pub fn parse(tag: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidTag {
            tag: tag.to_owned(),
            reason,
        };
        let Some(first) = tag.bytes().next() else {
            return Err(invalid("it is empty"));
        };
        if tag.len() > 128 {
            return Err(invalid("it is longer than 128 characters"));
        }
        if !(first.is_ascii_alphanumeric() || first == b'_') {
            return Err(invalid("it must start with a letter, a digit or `_`"));
        }
        if !tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        {
            return Err(invalid(
                "only letters, digits, `_`, `.` and `-` are allowed",
            ));
        }
        Ok(Self(tag.to_owned()))
    }

    /// The tag as a YAML scalar: always double-quoted, so a short all-digit commit hash stays a
    /// string (and none of the allowed characters needs escaping).
    pub fn yaml_scalar(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

impl AsRef<str> for ImageTag {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ImageTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::ImageTag;

    #[test]
    fn commit_hashes_versions_and_latest_are_valid_tags() {
        for tag in ["1a2b3c4", "1234567", "v1.2.3", "latest", "_x", "a-b.c_d"] {
            assert_eq!(ImageTag::parse(tag).unwrap().as_ref(), tag);
        }
        assert!(ImageTag::parse(&"a".repeat(128)).is_ok());
    }

    #[test]
    fn empty_long_and_odd_tags_are_refused() {
        for tag in ["", ".x", "-x", "a:b", "a/b", "a b", "a\"b", "é", "x\n"] {
            assert!(ImageTag::parse(tag).is_err(), "{tag:?} was accepted");
        }
        assert!(ImageTag::parse(&"a".repeat(129)).is_err());
    }

    #[test]
    fn tags_are_written_double_quoted() {
        assert_eq!(
            ImageTag::parse("1234567").unwrap().yaml_scalar(),
            "\"1234567\""
        );
    }
}
