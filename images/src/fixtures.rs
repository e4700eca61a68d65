//! Sample repository trees in temporary folders, for tests: built with `SampleTree::new().file(…)`,
//! snapshotted before a command and compared after it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// A temporary folder standing for the repository root, removed on drop.
pub struct SampleTree {
    folder: tempfile::TempDir,
}

/// Every file of a tree and its bytes.
pub type Snapshot = BTreeMap<PathBuf, Vec<u8>>;

impl SampleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self {
            folder: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    /// Writes `contents` to `relative`, creating its folders.
    pub fn file(self, relative: &str, contents: &str) -> Self {
        let path = self.path(relative);
        fs::create_dir_all(path.parent().expect("a parent folder")).expect("folders created");
        fs::write(&path, contents).expect("file written");
        self
    }

    /// The root.
    pub fn root(&self) -> &Path {
        self.folder.path()
    }

    /// `relative` under the root.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.root().join(relative)
    }

    /// The contents of `relative`.
    pub fn read(&self, relative: &str) -> String {
        fs::read_to_string(self.path(relative)).expect("file read")
    }

    /// Every file under the root.
    pub fn snapshot(&self) -> Snapshot {
        let mut files = Snapshot::new();
        let mut folders = vec![self.root().to_owned()];
        while let Some(folder) = folders.pop() {
            for entry in fs::read_dir(&folder).expect("folder listed") {
                let path = entry.expect("folder entry").path();
                if path.is_dir() {
                    folders.push(path);
                } else {
                    let bytes = fs::read(&path).expect("file read");
                    files.insert(path, bytes);
                }
            }
        }
        files
    }

    /// Fails unless the tree holds exactly the files of `before`, byte for byte.
    pub fn assert_unchanged(&self, before: &Snapshot) {
        let after = self.snapshot();
        assert_eq!(
            after.keys().collect::<Vec<_>>(),
            before.keys().collect::<Vec<_>>(),
            "files were added or removed"
        );
        for (path, bytes) in before {
            assert!(after[path] == *bytes, "{} changed", path.display());
        }
    }
}
