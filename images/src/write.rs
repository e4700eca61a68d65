//! Writing a file atomically: the new contents go to a temporary file in the same folder, which
//! is then renamed over the old one, so a reader (or a crash) sees the old file or the new one.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::{Error, Result};

/// Replaces the contents of `path`, keeping its permissions.
pub fn atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let failed = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temporary = tempfile::Builder::new()
        .prefix(".images-")
        .tempfile_in(folder)
        .map_err(failed)?;
    temporary.write_all(contents).map_err(failed)?;
    // The temporary file is created 0600; the kustomization keeps the mode it had.
    if let Ok(metadata) = fs::metadata(path) {
        temporary
            .as_file()
            .set_permissions(metadata.permissions())
            .map_err(failed)?;
    }
    temporary.as_file().sync_all().map_err(failed)?;
    temporary
        .persist(path)
        .map_err(|error| failed(error.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::atomically;

    #[test]
    fn the_file_is_replaced_and_no_temporary_file_is_left() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("kustomization.yaml");
        fs::write(&path, "old\n").unwrap();
        atomically(&path, b"new\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        let names: Vec<_> = fs::read_dir(folder.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["kustomization.yaml"]);
    }
}
