//! The GitHub workflows that call this tool: every file in `.github/workflows/` must parse, and
//! `images.yaml` must keep the shape its comments promise (pinned actions, the bump commit not
//! starting the workflow again).

use std::path::{Path, PathBuf};

use crate::yaml::{self, Value};

fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows")
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    yaml::parse(path, &text).unwrap_or_else(|error| panic!("{error}"))
}

/// Every `uses:` in the document.
fn uses(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Map(entries) => {
            for (key, value) in entries {
                match (key.as_str(), value.as_str()) {
                    (Some("uses"), Some(action)) => found.push(action.to_owned()),
                    _ => uses(value, found),
                }
            }
        }
        Value::Seq(items) => items.iter().for_each(|item| uses(item, found)),
        _ => {}
    }
}

/// The `on:` key, which a YAML 1.1 reading (this parser's, PyYAML's) takes for `true`;
/// GitHub reads it as the string.
fn trigger(workflow: &Value) -> Option<&Value> {
    let Value::Map(entries) = workflow else {
        return None;
    };
    entries
        .iter()
        .find(|(key, _)| matches!(key, Value::Bool(true)) || key.as_str() == Some("on"))
        .map(|(_, value)| value)
}

#[test]
fn every_workflow_parses_as_yaml() {
    let mut count = 0;
    for entry in std::fs::read_dir(folder()).unwrap() {
        let path = entry.unwrap().path();
        if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            assert!(matches!(load(&path), Value::Map(_)), "{}", path.display());
            count += 1;
        }
    }
    assert!(count >= 1);
}

#[test]
fn the_images_workflow_ignores_its_own_bump_commits_and_pins_its_actions() {
    let workflow = load(&folder().join("images.yaml"));
    let push = trigger(&workflow)
        .and_then(|on| on.get("push"))
        .expect("on: push");
    assert_eq!(
        push.get("branches"),
        Some(&Value::Seq(vec![Value::String("main".into())]))
    );
    let ignored = push.get("paths-ignore").expect("paths-ignore");
    assert!(
        matches!(ignored, Value::Seq(paths) if paths.contains(&Value::String("kubernetes/**".into())))
    );

    let jobs = workflow.get("jobs").expect("jobs");
    for job in ["changed", "build", "bump"] {
        assert!(jobs.get(job).is_some(), "job {job}");
    }
    let bump = jobs.get("bump").unwrap();
    assert_eq!(
        bump.get("permissions").and_then(|p| p.get("contents")),
        Some(&Value::String("write".into()))
    );
    let build = jobs.get("build").unwrap();
    assert_eq!(
        build.get("permissions").and_then(|p| p.get("packages")),
        Some(&Value::String("write".into()))
    );

    let mut actions = Vec::new();
    uses(&workflow, &mut actions);
    assert!(!actions.is_empty());
    for action in actions {
        let (_, version) = action.split_once('@').expect("a pinned action");
        let parts: Vec<&str> = version.trim_start_matches('v').split('.').collect();
        assert!(
            version.starts_with('v')
                && parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
            "{action} is not pinned to a full version tag"
        );
    }
}
