//! The crate's one error type: every failure names the file (and, from the YAML parser, the
//! line and column) it is about. `main` prints it, in one place.

use std::io;
use std::path::PathBuf;

/// Everything `images` can refuse or fail at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A file could not be written (nothing was renamed over it).
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The changed paths could not be read from standard input.
    #[error("cannot read the changed paths from standard input")]
    Stdin(#[source] io::Error),
    /// Not YAML, or not the shape expected; the message has the parser's line and column.
    #[error("{}: {message}", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// `imageConfig.yaml` parses but says something invalid (an image name, a source path).
    #[error("{}: {message}", path.display())]
    ImageConfig {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the image.
        message: String,
    },
    /// An image name not listed in `imageConfig.yaml`.
    #[error("image `{name}` is not in {}", path.display())]
    UnknownImage {
        /// The name asked for.
        name: String,
        /// `imageConfig.yaml`.
        path: PathBuf,
    },
    /// Not a valid image name (`[a-z0-9]+([._-][a-z0-9]+)*`).
    #[error("invalid image name `{name}`: {reason}")]
    InvalidImageName {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// Not a valid Docker tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}`).
    #[error("invalid image tag `{tag}`: {reason}")]
    InvalidTag {
        /// The tag.
        tag: String,
        /// Why.
        reason: &'static str,
    },
    /// A kustomization whose entry for the image cannot be given a new tag as it is.
    #[error("{}: line {line}: {message}", path.display())]
    Kustomization {
        /// The file.
        path: PathBuf,
        /// The line of the `images:` entry.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The edited text did not parse back to the old document with only the tag changed: a bug
    /// in the editor, or YAML it does not handle (anchors, merge keys, block scalars).
    #[error(
        "{}: editing newTag of `{image}` in place would change more than the tag; set it by hand",
        path.display()
    )]
    EditCheck {
        /// The file.
        path: PathBuf,
        /// The image.
        image: String,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
