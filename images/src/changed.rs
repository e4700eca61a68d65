//! `images changed`: which images a change must rebuild. An image is rebuilt when it has
//! `autoBuild: true` and a changed path is one of its sources or lies under one.

use crate::image_config::{Image, ImageConfig};
use crate::image_name::ImageName;

/// The `autoBuild` images with a source among `changed` (paths relative to the repository
/// root, as `git diff --name-only` prints them), in name order.
pub fn changed_images<'a, S: AsRef<str>>(
    config: &'a ImageConfig,
    changed: &[S],
) -> Vec<&'a ImageName> {
    let paths: Vec<&str> = changed
        .iter()
        .filter_map(|p| normalise(p.as_ref()))
        .collect();
    config
        .images()
        .filter(|image| image.auto_build && touches(image, &paths))
        .map(|image| &image.name)
        .collect()
}

/// Every `autoBuild` image, in name order: what a first push (no previous commit to compare
/// with) rebuilds.
pub fn auto_build_images(config: &ImageConfig) -> Vec<&ImageName> {
    config
        .images()
        .filter(|image| image.auto_build)
        .map(|image| &image.name)
        .collect()
}

/// A changed path without its line ending or a leading `./`; `None` for a blank line.
fn normalise(path: &str) -> Option<&str> {
    let path = path.trim_end_matches(['\n', '\r']);
    let path = path.strip_prefix("./").unwrap_or(path);
    (!path.is_empty()).then_some(path)
}

fn touches(image: &Image, paths: &[&str]) -> bool {
    paths
        .iter()
        .any(|path| image.sources.iter().any(|source| covers(source, path)))
}

/// `path` is `source` or lies under the folder `source` (`app` covers `app/src/lib.rs`, not
/// `apps.txt`).
fn covers(source: &str, path: &str) -> bool {
    path.strip_prefix(source)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{auto_build_images, changed_images};
    use crate::image_config::ImageConfig;

    fn config() -> ImageConfig {
        let text = "\
icantkube:
  autoBuild: true
  autoUpdate: true
  sources: [Cargo.toml, Cargo.lock, app/, server, style/]
mlflow:
  autoBuild: true
  autoUpdate: false
manual:
  autoBuild: false
  autoUpdate: true
  sources: [app]
";
        ImageConfig::parse(Path::new("imageConfig.yaml"), text).unwrap()
    }

    fn names(config: &ImageConfig, changed: &[&str]) -> Vec<String> {
        changed_images(config, changed)
            .into_iter()
            .map(|name| name.to_string())
            .collect()
    }

    #[test]
    fn a_change_in_a_source_folder_rebuilds_only_the_images_built_from_it() {
        let config = config();
        assert_eq!(names(&config, &["server/src/main.rs"]), ["icantkube"]);
        assert_eq!(names(&config, &["./app/src/lib.rs\r\n"]), ["icantkube"]);
        assert_eq!(names(&config, &["Cargo.lock"]), ["icantkube"]);
    }

    #[test]
    fn a_dockerfile_rebuilds_its_own_image() {
        let config = config();
        assert_eq!(names(&config, &["mlflow.Dockerfile"]), ["mlflow"]);
        assert_eq!(
            names(&config, &["mlflow.Dockerfile", "icantkube.Dockerfile", ""]),
            ["icantkube", "mlflow"]
        );
    }

    #[test]
    fn paths_outside_every_source_and_look_alike_prefixes_rebuild_nothing() {
        let config = config();
        assert!(names(&config, &["README.md", "kubernetes/app/kustomization.yaml"]).is_empty());
        assert!(names(
            &config,
            &["apps/x", "servers", "Cargo.toml.orig", "ml/src/lib.rs"]
        )
        .is_empty());
        assert!(names(&config, &[] as &[&str]).is_empty());
    }

    #[test]
    fn images_without_auto_build_are_never_listed() {
        let config = config();
        assert_eq!(
            names(&config, &["manual.Dockerfile", "app/x"]),
            ["icantkube"]
        );
        let all: Vec<String> = auto_build_images(&config)
            .into_iter()
            .map(|name| name.to_string())
            .collect();
        assert_eq!(all, ["icantkube", "mlflow"]);
    }
}
