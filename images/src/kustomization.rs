//! Kustomization files under `kubernetes/`: finding them, and setting the `newTag` of their
//! `images:` entries for one image by editing the text in place. The entry is located through
//! the parser's spans, and the result is parsed again: it must hold exactly the new tag and
//! otherwise equal the old document, or the file is refused. Everything else in the file
//! (comments, order, quoting, blank lines) is kept byte for byte.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

use crate::image_name::ImageName;
use crate::tag::ImageTag;
use crate::yaml::{self, Value};
use crate::{Error, Result};

/// The folder, under the repository root, holding the kustomizations.
pub const FOLDER: &str = "kubernetes";

/// The names kustomize reads a kustomization from.
const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Every kustomization under `<root>/kubernetes`, as paths relative to `root`, sorted. Symbolic
/// links are not followed (the rename of an atomic write would replace the link).
pub fn find(root: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut folders = vec![PathBuf::from(FOLDER)];
    while let Some(folder) = folders.pop() {
        let absolute = root.join(&folder);
        let entries = match fs::read_dir(&absolute) {
            Ok(entries) => entries,
            Err(error)
                if error.kind() == std::io::ErrorKind::NotFound && folder == Path::new(FOLDER) =>
            {
                return Ok(found);
            }
            Err(source) => {
                return Err(Error::Read {
                    path: absolute,
                    source,
                })
            }
        };
        for entry in entries {
            let entry = entry.map_err(|source| Error::Read {
                path: absolute.clone(),
                source,
            })?;
            let kind = entry.file_type().map_err(|source| Error::Read {
                path: entry.path(),
                source,
            })?;
            let relative = folder.join(entry.file_name());
            if kind.is_dir() {
                folders.push(relative);
            } else if kind.is_file() && FILE_NAMES.iter().any(|name| entry.file_name() == *name) {
                found.push(relative);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The part of a kustomization read here; other keys are kustomize's business.
#[derive(Deserialize)]
struct Kustomization {
    #[serde(default)]
    images: Option<Vec<Spanned<Entry>>>,
}

/// One `images:` entry.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    name: Spanned<String>,
    /// `Some` whenever the key is there, even with an empty or `null` value (then the value is
    /// replaced rather than a second key inserted).
    #[serde(default, deserialize_with = "present")]
    new_tag: Option<Spanned<Value>>,
    #[serde(default)]
    digest: Option<Value>,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Spanned<Value>>, D::Error> {
    Spanned::deserialize(deserializer).map(Some)
}

/// One change to the text: replace `remove` bytes at `at` with `insert`.
struct Edit {
    at: usize,
    remove: usize,
    insert: String,
}

/// The text of the kustomization at `path` (named in errors) with `newTag: tag` on every
/// `images:` entry named `image`: `None` when no entry names it, the text unchanged when every
/// such entry already has the tag.
pub fn set_new_tag(
    path: &Path,
    text: &str,
    image: &ImageName,
    tag: &ImageTag,
) -> Result<Option<String>> {
    let before: Value = yaml::parse(path, text)?;
    let parsed: Kustomization = yaml::parse(path, text)?;
    let entries: Vec<&Spanned<Entry>> = parsed
        .images
        .iter()
        .flatten()
        .filter(|entry| entry.value.name.value == image.as_ref())
        .collect();
    if entries.is_empty() {
        return Ok(None);
    }
    let mut edits = Vec::new();
    for entry in entries {
        if let Some(edit) = edit_for(path, text, image, tag, entry)? {
            edits.push(edit);
        }
    }
    if edits.is_empty() {
        return Ok(Some(text.to_owned()));
    }
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.at));
    let mut edited = text.to_owned();
    for edit in edits {
        edited.replace_range(edit.at..edit.at + edit.remove, &edit.insert);
    }
    check(path, &before, &edited, image, tag)?;
    Ok(Some(edited))
}

/// The edit that gives `entry` the tag, `None` when it has it already.
fn edit_for(
    path: &Path,
    text: &str,
    image: &ImageName,
    tag: &ImageTag,
    entry: &Spanned<Entry>,
) -> Result<Option<Edit>> {
    let refuse = |message: String| Error::Kustomization {
        path: path.to_owned(),
        line: entry.referenced.line(),
        message,
    };
    let unlocated = || Error::EditCheck {
        path: path.to_owned(),
        image: image.to_string(),
    };
    if entry
        .value
        .digest
        .as_ref()
        .is_some_and(|d| *d != Value::Null)
    {
        return Err(refuse(format!(
            "the entry for `{image}` pins a digest, which kustomize uses instead of newTag; remove the digest to bump it by tag"
        )));
    }
    let quoted = tag.yaml_scalar();
    if let Some(new_tag) = &entry.value.new_tag {
        if new_tag.value.as_str() == Some(tag.as_ref()) {
            return Ok(None);
        }
        let (at, len) = byte_span(&new_tag.referenced).ok_or_else(unlocated)?;
        let old = text.get(at..at + len).ok_or_else(unlocated)?;
        if old.contains(['\n', '\r']) {
            return Err(refuse(format!(
                "the newTag of `{image}` spans several lines; write it on one line"
            )));
        }
        if len == 0 {
            // An empty value: the parser points at the key's colon.
            return match text[at..].starts_with(':') {
                true => Ok(Some(Edit {
                    at: at + 1,
                    remove: 0,
                    insert: format!(" {quoted}"),
                })),
                false => Err(unlocated()),
            };
        }
        return Ok(Some(Edit {
            at,
            remove: len,
            insert: quoted,
        }));
    }
    // No newTag: add one after the name.
    let (entry_at, _) = byte_span(&entry.referenced).ok_or_else(unlocated)?;
    let (name_at, name_len) = byte_span(&entry.value.name.referenced).ok_or_else(unlocated)?;
    let name_end = name_at + name_len;
    if text[entry_at..].starts_with('{') {
        // A flow mapping, `{name: x, newName: y}`.
        return Ok(Some(Edit {
            at: name_end,
            remove: 0,
            insert: format!(", newTag: {quoted}"),
        }));
    }
    // A block mapping: a line of its own, indented like the entry's first key.
    let line_start = text[..entry_at].rfind('\n').map_or(0, |i| i + 1);
    let lead = &text[line_start..entry_at];
    if !lead.chars().all(|c| c == ' ' || c == '-') {
        return Err(unlocated());
    }
    let indent = " ".repeat(lead.chars().count());
    Ok(Some(match text[name_end..].find('\n') {
        Some(newline) => {
            let at = name_end + newline + 1;
            let eol = if text[..at - 1].ends_with('\r') {
                "\r\n"
            } else {
                "\n"
            };
            Edit {
                at,
                remove: 0,
                insert: format!("{indent}newTag: {quoted}{eol}"),
            }
        }
        None => Edit {
            at: text.len(),
            remove: 0,
            insert: format!("\n{indent}newTag: {quoted}"),
        },
    }))
}

/// A location's byte offset and length in the text.
fn byte_span(location: &serde_saphyr::Location) -> Option<(usize, usize)> {
    let span = location.span();
    let at = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    Some((at, len))
}

/// The edited text must parse, give every entry for `image` the tag, and otherwise equal the
/// document before the edit.
fn check(
    path: &Path,
    before: &Value,
    edited: &str,
    image: &ImageName,
    tag: &ImageTag,
) -> Result<()> {
    let failed = || Error::EditCheck {
        path: path.to_owned(),
        image: image.to_string(),
    };
    let after: Value = yaml::parse(path, edited).map_err(|_| failed())?;
    yaml::parse::<Kustomization>(path, edited).map_err(|_| failed())?;
    let tagged = entries_named(&after, image);
    let all_tagged = !tagged.is_empty()
        && tagged
            .iter()
            .all(|entry| entry.get("newTag").and_then(Value::as_str) == Some(tag.as_ref()));
    if !all_tagged || without_tags(before, image) != without_tags(&after, image) {
        return Err(failed());
    }
    Ok(())
}

/// The `images:` entries of `document` named `image`.
fn entries_named<'a>(document: &'a Value, image: &ImageName) -> Vec<&'a Value> {
    match document.get("images") {
        Some(Value::Seq(entries)) => entries
            .iter()
            .filter(|entry| entry.get("name").and_then(Value::as_str) == Some(image.as_ref()))
            .collect(),
        _ => Vec::new(),
    }
}

/// `document` with the `newTag` key removed from the entries named `image`.
fn without_tags(document: &Value, image: &ImageName) -> Value {
    let mut document = document.clone();
    if let Value::Map(keys) = &mut document {
        for (key, value) in keys {
            if key.as_str() != Some("images") {
                continue;
            }
            let Value::Seq(entries) = value else { continue };
            for entry in entries {
                let named = entry.get("name").and_then(Value::as_str) == Some(image.as_ref());
                if let (true, Value::Map(fields)) = (named, entry) {
                    fields.retain(|(field, _)| field.as_str() != Some("newTag"));
                }
            }
        }
    }
    document
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{find, set_new_tag};
    use crate::fixtures::SampleTree;
    use crate::image_name::ImageName;
    use crate::tag::ImageTag;

    fn set(text: &str, image: &str, tag: &str) -> crate::Result<Option<String>> {
        set_new_tag(
            Path::new("k/kustomization.yaml"),
            text,
            &ImageName::parse(image).unwrap(),
            &ImageTag::parse(tag).unwrap(),
        )
    }

    fn edited(text: &str, image: &str, tag: &str) -> String {
        set(text, image, tag).unwrap().expect("the image is named")
    }

    #[test]
    fn only_the_tag_changes_comments_and_quoting_elsewhere_stay_byte_for_byte() {
        let text = "# head\n\
            images: # list\n\
            \x20 - name: 'web'   # quoted name\n\
            \x20   newTag: v1.0   # old\n\
            \x20 # between\n\
            \x20 - newTag: 0123456\n\
            \x20   name: \"web\"\n\
            \n\
            # tail, no newline at the end";
        let expected = text
            .replace("newTag: v1.0 ", "newTag: \"9876543\" ")
            .replace("newTag: 0123456", "newTag: \"9876543\"");
        assert_eq!(edited(text, "web", "9876543"), expected);
    }

    #[test]
    fn a_missing_new_tag_is_inserted_under_the_name_with_its_indentation() {
        let text = "images:\n    -   name: web # c\n        newName: x/web\n";
        assert_eq!(
            edited(text, "web", "abc"),
            "images:\n    -   name: web # c\n        newTag: \"abc\"\n        newName: x/web\n"
        );
        assert_eq!(
            edited("images:\n- name: web", "web", "abc"),
            "images:\n- name: web\n  newTag: \"abc\""
        );
        assert_eq!(
            edited("images:\r\n  - name: web\r\n", "web", "abc"),
            "images:\r\n  - name: web\r\n    newTag: \"abc\"\r\n"
        );
        assert_eq!(
            edited("images:\n  -\n    name: web\n", "web", "abc"),
            "images:\n  -\n    name: web\n    newTag: \"abc\"\n"
        );
    }

    #[test]
    fn flow_mappings_and_empty_or_null_tags_are_edited_in_place() {
        assert_eq!(
            edited("images: [{name: web, newName: x}]\n", "web", "abc"),
            "images: [{name: web, newTag: \"abc\", newName: x}]\n"
        );
        assert_eq!(
            edited("images:\n  - {name: web, newTag: 'old'}\n", "web", "abc"),
            "images:\n  - {name: web, newTag: \"abc\"}\n"
        );
        assert_eq!(
            edited("images:\n  - name: web\n    newTag:\n", "web", "abc"),
            "images:\n  - name: web\n    newTag: \"abc\"\n"
        );
        assert_eq!(
            edited(
                "images:\n  - name: web\n    newTag: ~ # none yet\n",
                "web",
                "abc"
            ),
            "images:\n  - name: web\n    newTag: \"abc\" # none yet\n"
        );
    }

    #[test]
    fn a_number_tag_becomes_a_quoted_string_and_an_equal_string_is_left_alone() {
        assert_eq!(
            edited(
                "images:\n  - name: web\n    newTag: 1234567\n",
                "web",
                "1234567"
            ),
            "images:\n  - name: web\n    newTag: \"1234567\"\n"
        );
        let text = "images:\n  - name: web\n    newTag: '1234567'\n";
        assert_eq!(edited(text, "web", "1234567"), text);
    }

    #[test]
    fn files_not_naming_the_image_are_not_edited() {
        assert_eq!(set("resources: [a.yaml]\n", "web", "abc").unwrap(), None);
        assert_eq!(
            set("images:\n  - name: webapp\n    newTag: x\n", "web", "abc").unwrap(),
            None
        );
    }

    #[test]
    fn digests_multi_line_tags_and_anchors_are_refused() {
        let digest = "images:\n  - name: web\n    digest: sha256:abc\n";
        let message = set(digest, "web", "abc").unwrap_err().to_string();
        assert!(
            message.starts_with("k/kustomization.yaml: line 2: "),
            "{message}"
        );
        assert!(message.contains("digest"), "{message}");

        let folded = "images:\n  - name: web\n    newTag: >-\n      v1\n";
        let message = set(folded, "web", "abc").unwrap_err().to_string();
        assert!(message.starts_with("k/kustomization.yaml: "), "{message}");

        // The tag is shared with another entry through an anchor: editing it would move both.
        let anchored =
            "images:\n  - name: web\n    newTag: &t v1\n  - name: other\n    newTag: *t\n";
        let message = set(anchored, "web", "abc").unwrap_err().to_string();
        assert!(message.contains("by hand"), "{message}");
    }

    #[test]
    fn entries_without_a_name_or_images_that_are_not_a_list_are_malformed() {
        for text in [
            "images:\n  - newTag: x\n",
            "images: web\n",
            "- a\n",
            "a: [\n",
        ] {
            let message = set(text, "web", "abc").expect_err(text).to_string();
            assert!(message.starts_with("k/kustomization.yaml: "), "{message}");
        }
    }

    #[test]
    fn kustomizations_are_found_in_every_folder_under_kubernetes_only() {
        let tree = SampleTree::new()
            .file("kubernetes/kustomization.yaml", "")
            .file("kubernetes/a/b/kustomization.yml", "")
            .file("kubernetes/c/Kustomization", "")
            .file("kubernetes/c/deployment.yaml", "")
            .file("kustomization.yaml", "")
            .file("other/kustomization.yaml", "");
        let found: Vec<String> = find(tree.root())
            .unwrap()
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        assert_eq!(
            found,
            [
                "kubernetes/a/b/kustomization.yml",
                "kubernetes/c/Kustomization",
                "kubernetes/kustomization.yaml"
            ]
        );
        assert!(find(SampleTree::new().root()).unwrap().is_empty());
    }
}
