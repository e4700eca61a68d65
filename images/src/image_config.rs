//! `imageConfig.yaml` at the repository root: the images there are, whether a change to their
//! sources rebuilds them (`autoBuild`) and whether a new build moves the kustomizations to its
//! tag (`autoUpdate`), and what each is built from (`sources`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::image_name::ImageName;
use crate::{yaml, Error, Result};

/// The file's name, at the repository root.
pub const FILE_NAME: &str = "imageConfig.yaml";

/// One image of `imageConfig.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Its name (the key in the file).
    pub name: ImageName,
    /// A change to its sources rebuilds it.
    pub auto_build: bool,
    /// A new build moves the kustomizations under `kubernetes/` to its tag.
    pub auto_update: bool,
    /// Paths relative to the repository root, without a trailing `/`: a file, or a folder and
    /// everything under it. `<name>.Dockerfile` always comes first, then the file's `sources:`.
    pub sources: Vec<String>,
}

/// The whole file, images by name.
#[derive(Debug, Clone)]
pub struct ImageConfig {
    path: PathBuf,
    images: BTreeMap<ImageName, Image>,
}

/// An image as written; unknown keys are refused (a misspelt `autoUpdate` must not silently
/// turn updates off).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawImage {
    auto_build: bool,
    auto_update: bool,
    #[serde(default)]
    sources: Vec<String>,
}

impl ImageConfig {
    /// Reads `<root>/imageConfig.yaml`.
    pub fn load(root: &Path) -> Result<Self> {
        let path = root.join(FILE_NAME);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        Self::parse(&path, &text)
    }

    /// Parses the contents of the file at `path` (named in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let raw: BTreeMap<String, RawImage> = yaml::parse(path, text)?;
        let invalid = |message: String| Error::ImageConfig {
            path: path.to_owned(),
            message,
        };
        let mut images = BTreeMap::new();
        for (name, raw) in raw {
            let name = ImageName::parse(&name).map_err(|error| invalid(error.to_string()))?;
            let mut sources = vec![name.dockerfile()];
            for source in &raw.sources {
                let source = normalise_source(source).map_err(|reason| {
                    invalid(format!("image `{name}`: source `{source}`: {reason}"))
                })?;
                if !sources.contains(&source) {
                    sources.push(source);
                }
            }
            let image = Image {
                name: name.clone(),
                auto_build: raw.auto_build,
                auto_update: raw.auto_update,
                sources,
            };
            images.insert(name, image);
        }
        Ok(Self {
            path: path.to_owned(),
            images,
        })
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every image, by name.
    pub fn images(&self) -> impl Iterator<Item = &Image> {
        self.images.values()
    }

    /// The image called `name`; an error naming the file when there is none.
    pub fn image(&self, name: &str) -> Result<&Image> {
        self.images
            .iter()
            .find(|(key, _)| key.as_ref() == name)
            .map(|(_, image)| image)
            .ok_or_else(|| Error::UnknownImage {
                name: name.to_owned(),
                path: self.path.clone(),
            })
    }
}

/// A source path as the changed-path list from `git diff --name-only` spells it: relative,
/// `/`-separated, no `.` or `..`, no trailing `/`.
fn normalise_source(source: &str) -> Result<String, &'static str> {
    let trimmed = source.strip_suffix('/').unwrap_or(source);
    if trimmed.is_empty() {
        return Err("it is empty");
    }
    if trimmed.starts_with('/') || trimmed.contains('\\') {
        return Err("it must be relative to the repository root, with `/` separators");
    }
    if trimmed
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err("it must not contain `.`, `..` or `//`");
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::ImageConfig;

    const SAMPLE: &str = "# images\n\
        web:\n  autoBuild: true\n  autoUpdate: true\n  sources: [Cargo.toml, app/, web.Dockerfile]\n\
        tool:\n  autoBuild: false\n  autoUpdate: false\n";

    #[test]
    fn sources_start_with_the_dockerfile_then_list_the_file_s_sources() {
        let config = ImageConfig::parse(Path::new("imageConfig.yaml"), SAMPLE).unwrap();
        let web = config.image("web").unwrap();
        assert!(web.auto_build && web.auto_update);
        assert_eq!(web.sources, ["web.Dockerfile", "Cargo.toml", "app"]);
        let tool = config.image("tool").unwrap();
        assert!(!tool.auto_build && !tool.auto_update);
        assert_eq!(tool.sources, ["tool.Dockerfile"]);
    }

    #[test]
    fn an_unknown_key_is_refused_naming_the_file_and_the_key() {
        let text = "web:\n  autoBuild: true\n  autoUpdate: true\n  autoupdate: false\n";
        let message = ImageConfig::parse(Path::new("conf/imageConfig.yaml"), text)
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("conf/imageConfig.yaml: "), "{message}");
        assert!(message.contains("autoupdate"), "{message}");
        assert!(message.contains("line 4"), "{message}");
    }

    #[test]
    fn missing_flags_duplicate_images_and_bad_names_or_sources_are_refused() {
        for text in [
            "web:\n  autoBuild: true\n",
            "web:\n  autoBuild: true\n  autoUpdate: true\nweb:\n  autoBuild: true\n  autoUpdate: true\n",
            "Web:\n  autoBuild: true\n  autoUpdate: true\n",
            "web:\n  autoBuild: true\n  autoUpdate: true\n  sources: [../x]\n",
            "web:\n  autoBuild: true\n  autoUpdate: true\n  sources: [/etc]\n",
            "web:\n  autoBuild: yes please\n  autoUpdate: true\n",
        ] {
            let error = ImageConfig::parse(Path::new("imageConfig.yaml"), text);
            let message = error.expect_err(text).to_string();
            assert!(message.starts_with("imageConfig.yaml: "), "{message}");
        }
    }

    #[test]
    fn an_image_not_in_the_file_is_an_error_naming_the_file() {
        let config = ImageConfig::parse(Path::new("imageConfig.yaml"), SAMPLE).unwrap();
        let message = config.image("nope").unwrap_err().to_string();
        assert_eq!(message, "image `nope` is not in imageConfig.yaml");
    }

    #[test]
    fn the_repository_s_own_file_parses_and_its_non_dockerfile_sources_exist() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let config = ImageConfig::load(&root).unwrap();
        for name in ["icantkube", "mlflow"] {
            let image = config.image(name).unwrap();
            assert!(image.auto_build && image.auto_update, "{name}");
        }
        let icantkube = config.image("icantkube").unwrap();
        for source in &icantkube.sources[1..] {
            assert!(root.join(source).exists(), "{source} does not exist");
        }
        assert!(icantkube.sources.iter().any(|s| s == "server"));
    }
}
