//! Builds and bumps icantkube's container images, as `imageConfig.yaml` at the repository root
//! describes them: which images a change must rebuild (`changed`), and moving every
//! kustomization under `kubernetes/` to a new tag (`bump`). The GitHub workflow
//! `.github/workflows/images.yaml` calls both.

pub mod bump;
pub mod changed;
pub mod error;
pub mod image_config;
pub mod image_name;
pub mod kustomization;
pub mod tag;
pub mod write;
pub mod yaml;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod workflows;

pub use error::{Error, Result};
