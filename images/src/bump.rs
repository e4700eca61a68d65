//! `images bump`: moves every kustomization under `kubernetes/` that names an image to a new
//! tag. Every file is read and edited in memory first; only when all of them parse and edit
//! cleanly is anything written, each file atomically.

use std::path::{Path, PathBuf};

use crate::image_config::ImageConfig;
use crate::tag::ImageTag;
use crate::{kustomization, write, Error, Result};

/// What a bump did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The image has `autoUpdate: false`: nothing was read under `kubernetes/` or written.
    AutoUpdateOff,
    /// The kustomizations naming the image now have the tag.
    Bumped {
        /// The files written (root joined with the path under it), sorted.
        changed: Vec<PathBuf>,
        /// The files naming the image that had the tag already.
        unchanged: Vec<PathBuf>,
    },
}

/// Sets `newTag: tag` on the entries for `image` in every kustomization under
/// `<root>/kubernetes`, if `imageConfig.yaml` gives the image `autoUpdate: true`.
pub fn bump(root: &Path, image: &str, tag: &str) -> Result<Outcome> {
    let tag = ImageTag::parse(tag)?;
    let config = ImageConfig::load(root)?;
    let image = config.image(image)?;
    if !image.auto_update {
        return Ok(Outcome::AutoUpdateOff);
    }
    let image = &image.name;
    let mut writes = Vec::new();
    let mut unchanged = Vec::new();
    for relative in kustomization::find(root)? {
        let path = root.join(&relative);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        match kustomization::set_new_tag(&path, &text, image, &tag)? {
            Some(edited) if edited != text => writes.push((path, edited)),
            Some(_) => unchanged.push(path),
            None => {}
        }
    }
    let mut changed = Vec::new();
    for (path, edited) in writes {
        write::atomically(&path, edited.as_bytes())?;
        changed.push(path);
    }
    Ok(Outcome::Bumped { changed, unchanged })
}

#[cfg(test)]
mod tests {
    use super::{bump, Outcome};
    use crate::fixtures::SampleTree;

    const CONFIG: &str = "\
# sample
web:
  autoBuild: true
  autoUpdate: true
worker:
  autoBuild: true
  autoUpdate: true
frozen:
  autoBuild: true
  autoUpdate: false
";

    /// Refers to `web` only, with comments everywhere.
    const APP: &str = "\
# The app. Keep this comment.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml   # trailing comment

images:
  # the web image
  - name: web
    newName: ghcr.io/icantkube/web  # where CI pushes it
    newTag: old-tag # bumped by CI

# end
";

    /// Refers to another image only.
    const OTHER: &str = "\
resources: [job.yaml]
images:
  - name: worker
    newName: ghcr.io/icantkube/worker
    newTag: \"1111111\"
";

    /// Refers to both, `web` without a tag yet and before `worker`.
    const BOTH: &str = "\
images:
- name: web
  newName: ghcr.io/icantkube/web
- name: worker
  newName: ghcr.io/icantkube/worker
  newTag: '2222222'
";

    fn tree() -> SampleTree {
        SampleTree::new()
            .file("imageConfig.yaml", CONFIG)
            .file("kubernetes/app/kustomization.yaml", APP)
            .file("kubernetes/jobs/kustomization.yaml", OTHER)
            .file("kubernetes/overlays/prod/kustomization.yaml", BOTH)
            .file("kubernetes/app/deployment.yaml", "images:\n  - name: web\n")
    }

    #[test]
    fn every_kustomization_naming_the_image_moves_and_nothing_else_changes() {
        let tree = tree();
        let outcome = bump(tree.root(), "web", "1234567").unwrap();
        assert_eq!(
            outcome,
            Outcome::Bumped {
                changed: vec![
                    tree.path("kubernetes/app/kustomization.yaml"),
                    tree.path("kubernetes/overlays/prod/kustomization.yaml"),
                ],
                unchanged: vec![],
            }
        );
        assert_eq!(
            tree.read("kubernetes/app/kustomization.yaml"),
            APP.replace("newTag: old-tag #", "newTag: \"1234567\" #")
        );
        assert_eq!(
            tree.read("kubernetes/overlays/prod/kustomization.yaml"),
            "\
images:
- name: web
  newTag: \"1234567\"
  newName: ghcr.io/icantkube/web
- name: worker
  newName: ghcr.io/icantkube/worker
  newTag: '2222222'
"
        );
        assert_eq!(tree.read("kubernetes/jobs/kustomization.yaml"), OTHER);
        assert_eq!(
            tree.read("kubernetes/app/deployment.yaml"),
            "images:\n  - name: web\n"
        );
        assert_eq!(tree.read("imageConfig.yaml"), CONFIG);
    }

    #[test]
    fn a_second_bump_to_the_same_tag_writes_nothing() {
        let tree = tree();
        bump(tree.root(), "worker", "abc").unwrap();
        let outcome = bump(tree.root(), "worker", "abc").unwrap();
        assert_eq!(
            outcome,
            Outcome::Bumped {
                changed: vec![],
                unchanged: vec![
                    tree.path("kubernetes/jobs/kustomization.yaml"),
                    tree.path("kubernetes/overlays/prod/kustomization.yaml"),
                ],
            }
        );
        assert_eq!(
            tree.read("kubernetes/jobs/kustomization.yaml"),
            OTHER.replace("\"1111111\"", "\"abc\"")
        );
        assert_eq!(tree.read("kubernetes/app/kustomization.yaml"), APP);
    }

    #[test]
    fn an_image_not_in_the_image_config_is_an_error_and_nothing_is_written() {
        let tree = tree();
        let before = tree.snapshot();
        let message = bump(tree.root(), "nope", "abc").unwrap_err().to_string();
        assert_eq!(
            message,
            format!(
                "image `nope` is not in {}",
                tree.path("imageConfig.yaml").display()
            )
        );
        tree.assert_unchanged(&before);
    }

    #[test]
    fn auto_update_false_changes_nothing() {
        let tree = tree().file(
            "kubernetes/frozen/kustomization.yaml",
            "images:\n  - name: frozen\n    newTag: v1\n",
        );
        let before = tree.snapshot();
        assert_eq!(
            bump(tree.root(), "frozen", "v2").unwrap(),
            Outcome::AutoUpdateOff
        );
        tree.assert_unchanged(&before);
    }

    #[test]
    fn a_malformed_kustomization_is_refused_with_its_path_and_nothing_is_written() {
        // `app` sorts first and would be written first: the broken file comes later.
        let tree = tree().file(
            "kubernetes/zz-broken/kustomization.yaml",
            "images:\n  - name: web\n    newTag: [unclosed\n",
        );
        let before = tree.snapshot();
        let message = bump(tree.root(), "web", "abc").unwrap_err().to_string();
        let broken = tree.path("kubernetes/zz-broken/kustomization.yaml");
        assert!(
            message.starts_with(&format!("{}: ", broken.display())),
            "{message}"
        );
        assert!(message.contains("line 3"), "{message}");
        tree.assert_unchanged(&before);
    }

    #[test]
    fn a_malformed_image_config_is_refused_with_its_path_and_nothing_is_written() {
        let tree = tree().file(
            "imageConfig.yaml",
            "web:\n  autoBuild: true\n  autoUpdate: [\n",
        );
        let before = tree.snapshot();
        let message = bump(tree.root(), "web", "abc").unwrap_err().to_string();
        let config = tree.path("imageConfig.yaml");
        assert!(
            message.starts_with(&format!("{}: ", config.display())),
            "{message}"
        );
        assert!(message.contains("line "), "{message}");
        tree.assert_unchanged(&before);
    }

    #[test]
    fn an_invalid_tag_is_refused_before_anything_is_read() {
        let tree = SampleTree::new();
        let message = bump(tree.root(), "web", "a:b").unwrap_err().to_string();
        assert!(message.starts_with("invalid image tag `a:b`"), "{message}");
    }

    #[test]
    fn no_kubernetes_folder_bumps_nothing() {
        let tree = SampleTree::new().file("imageConfig.yaml", CONFIG);
        assert_eq!(
            bump(tree.root(), "web", "abc").unwrap(),
            Outcome::Bumped {
                changed: vec![],
                unchanged: vec![]
            }
        );
    }
}
