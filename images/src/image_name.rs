//! An image's name: a key of `imageConfig.yaml`, the `<name>.Dockerfile` it is built from, the
//! last component of `ghcr.io/icantkube/<name>` and the `name:` of kustomization entries.

use std::fmt;

use crate::{Error, Result};

/// A valid image name: one repository path component in Docker's grammar,
/// `[a-z0-9]+([._-][a-z0-9]+)*`, at most 128 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageName(String);

impl ImageName {
    /// Checks `name` against the grammar.
    pub fn parse(name: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidImageName {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(invalid("it is empty"));
        }
        if name.len() > 128 {
            return Err(invalid("it is longer than 128 characters"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        {
            return Err(invalid(
                "only lowercase letters, digits, `.`, `_` and `-` are allowed",
            ));
        }
        let separator = |b: u8| b"._-".contains(&b);
        let bytes = name.as_bytes();
        if separator(bytes[0]) || separator(bytes[bytes.len() - 1]) {
            return Err(invalid("it must start and end with a letter or digit"));
        }
        if bytes.windows(2).any(|w| separator(w[0]) && separator(w[1])) {
            return Err(invalid(
                "`.`, `_` and `-` must be between letters or digits",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The Dockerfile it is built from, relative to the repository root.
    pub fn dockerfile(&self) -> String {
        format!("{}.Dockerfile", self.0)
    }
}

impl AsRef<str> for ImageName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::ImageName;

    #[test]
    fn names_of_the_repository_are_valid() {
        for name in ["icantkube", "mlflow", "a", "my-image_2.x"] {
            assert_eq!(ImageName::parse(name).unwrap().as_ref(), name);
        }
        assert_eq!(
            ImageName::parse("mlflow").unwrap().dockerfile(),
            "mlflow.Dockerfile"
        );
    }

    #[test]
    fn uppercase_slashes_and_stray_separators_are_refused() {
        for name in ["", "MLflow", "a/b", "-a", "a-", "a..b", "a b", "é"] {
            assert!(ImageName::parse(name).is_err(), "{name:?} was accepted");
        }
        assert!(ImageName::parse(&"a".repeat(129)).is_err());
    }
}
