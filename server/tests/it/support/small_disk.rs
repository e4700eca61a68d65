//! Small file systems mounted for one test, so it can fill the disk under a SQLite file and
//! give the space back (tmpfs), or make the file unwritable while the server has it open
//! (ext4 on a loop device: its immutable flag fails writes on open files, where a read-only
//! remount is refused while files are open for writing). Mounting needs root; where it
//! cannot mount, the test says SKIPPED.

use std::path::PathBuf;
use std::process::Command;

use tempfile::TempDir;

/// A mounted file system, unmounted on drop.
pub struct SmallDisk {
    folder: TempDir,
    /// The ext4 image behind a loop mount.
    _image: Option<TempDir>,
}

impl SmallDisk {
    /// Mounts `megabytes` of tmpfs on a fresh folder, or `None` (printing SKIPPED and why)
    /// where this process may not mount.
    pub fn tmpfs(megabytes: u32, test: &str) -> Option<SmallDisk> {
        let folder = tempfile::tempdir().unwrap();
        let mount = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(folder.path())
            .output();
        SmallDisk::mounted(folder, None, mount, test)
    }

    /// Mounts a fresh ext4 file system of `megabytes` from an image on a loop device.
    pub fn ext4(megabytes: u32, test: &str) -> Option<SmallDisk> {
        let image_folder = tempfile::tempdir().unwrap();
        let image = image_folder.path().join("disk.img");
        std::fs::File::create(&image)
            .unwrap()
            .set_len(u64::from(megabytes) << 20)
            .unwrap();
        let format = Command::new("mkfs.ext4").arg("-q").arg(&image).output();
        if let Err(error) | Ok(Err(error)) = format.map(|output| {
            if output.status.success() {
                Ok(())
            } else {
                Err(std::io::Error::other(
                    String::from_utf8_lossy(&output.stderr).into_owned(),
                ))
            }
        }) {
            eprintln!("SKIPPED {test}: cannot make an ext4 file system: {error}");
            return None;
        }
        let folder = tempfile::tempdir().unwrap();
        let mount = Command::new("mount")
            .args(["-o", "loop"])
            .arg(&image)
            .arg(folder.path())
            .output();
        SmallDisk::mounted(folder, Some(image_folder), mount, test)
    }

    fn mounted(
        folder: TempDir,
        image: Option<TempDir>,
        mount: std::io::Result<std::process::Output>,
        test: &str,
    ) -> Option<SmallDisk> {
        match mount {
            Ok(output) if output.status.success() => Some(SmallDisk {
                folder,
                _image: image,
            }),
            Ok(output) => {
                eprintln!(
                    "SKIPPED {test}: cannot mount a tmpfs here: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                None
            }
            Err(error) => {
                eprintln!("SKIPPED {test}: cannot run mount: {error}");
                None
            }
        }
    }

    /// A `sqlite://` URL of a database file on this disk.
    pub fn database_url(&self) -> String {
        format!("sqlite://{}", self.file("icantkube.db").display())
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.folder.path().join(name)
    }

    /// Changes the size, as an operator freeing space would.
    pub fn resize(&self, megabytes: u32) {
        self.remount(&format!("remount,size={megabytes}m"));
    }

    /// Makes files on an ext4 disk unwritable (`false`: immutable, so writes through open
    /// handles fail with an I/O error) or writable again (`true`).
    pub fn set_writable(&self, files: &[&str], writable: bool) {
        let status = Command::new("chattr")
            .arg(if writable { "-i" } else { "+i" })
            .args(files.iter().map(|name| self.file(name)))
            .status()
            .unwrap();
        assert!(status.success(), "chattr failed");
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", options])
            .arg(self.folder.path())
            .status()
            .unwrap();
        assert!(status.success(), "mount -o {options} failed");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("--lazy")
            .arg(self.folder.path())
            .status();
    }
}
