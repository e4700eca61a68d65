//! A MariaDB server of one test's own, which it may stop and start again (the test command's
//! shared server cannot stop under the other tests). It runs where the shared one does: on the
//! test command's MariaDB pass, as root; elsewhere the test says SKIPPED.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::binary::free_port;
use super::database::mariadb_server;

const MARIADBD: &str = "/usr/sbin/mariadbd";
const PASSWORD: &str = "own-server-password";

pub struct OwnMariaDb {
    folder: TempDir,
    port: u16,
    process: Option<Child>,
}

impl OwnMariaDb {
    /// A fresh server with a `plant` database, or `None` (printing SKIPPED) off the MariaDB
    /// pass.
    pub fn start(test: &str) -> Option<OwnMariaDb> {
        if mariadb_server().is_none() || !std::path::Path::new(MARIADBD).exists() {
            println!("SKIPPED {test}: needs the test command's MariaDB pass");
            return None;
        }
        let folder = tempfile::tempdir().unwrap();
        let installed = Command::new("mariadb-install-db")
            .args([
                "--user=root",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ])
            .arg(format!(
                "--datadir={}",
                folder.path().join("data").display()
            ))
            .output()
            .unwrap();
        assert!(installed.status.success(), "{installed:?}");
        let mut server = OwnMariaDb {
            folder,
            port: free_port(),
            process: None,
        };
        server.restart();
        server.sql(&format!(
            "CREATE USER 'icantkube'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; \
             GRANT ALL PRIVILEGES ON *.* TO 'icantkube'@'127.0.0.1'; CREATE DATABASE plant;"
        ));
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("mysql://icantkube:{PASSWORD}@127.0.0.1:{}/plant", self.port)
    }

    fn socket(&self) -> String {
        self.folder
            .path()
            .join("mariadb.sock")
            .display()
            .to_string()
    }

    fn sql(&self, statements: &str) {
        let done = Command::new("mariadb")
            .args([
                "-uroot",
                &format!("--socket={}", self.socket()),
                "-e",
                statements,
            ])
            .output()
            .unwrap();
        assert!(done.status.success(), "{done:?}");
    }

    /// Starts the server on its folder and port, and waits until it answers.
    pub fn restart(&mut self) {
        assert!(self.process.is_none(), "it runs already");
        let folder = self.folder.path();
        self.process = Some(
            Command::new(MARIADBD)
                .args(["--no-defaults", "--user=root", "--bind-address=127.0.0.1"])
                .args(["--skip-name-resolve", "--innodb-buffer-pool-size=64M"])
                .arg(format!("--datadir={}", folder.join("data").display()))
                .arg(format!("--socket={}", self.socket()))
                .arg(format!("--port={}", self.port))
                .arg(format!(
                    "--log-error={}",
                    folder.join("error.log").display()
                ))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let start = Instant::now();
        loop {
            let answered = Command::new("mariadb")
                .args([
                    "-uroot",
                    &format!("--socket={}", self.socket()),
                    "-e",
                    "SELECT 1",
                ])
                .output()
                .unwrap();
            if answered.status.success() {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "mariadbd did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server (SIGTERM, as its service would) and waits until it is gone.
    pub fn stop(&mut self) {
        let mut process = self.process.take().expect("it runs");
        let _ = Command::new("kill")
            .args(["-TERM", &process.id().to_string()])
            .status();
        process.wait().unwrap();
    }
}

impl Drop for OwnMariaDb {
    fn drop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}
