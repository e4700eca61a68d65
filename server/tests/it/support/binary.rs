//! The `icantkube` binary cargo built for these tests, and free loopback ports for it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::app::{ADMIN_PASSWORD, GLOBAL_TOKEN};

/// The binary's path.
pub fn icantkube() -> &'static str {
    env!("CARGO_BIN_EXE_icantkube")
}

/// Runs the binary with `args`; answers whether it succeeded, its stdout and its stderr.
pub fn run(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(icantkube()).args(args).output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A loopback port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `icantkube serve` as its own process, both listeners (app and metrics) on free ports so it
/// starts whatever else runs on this machine, killed on drop.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT` of the app.
    pub base: String,
    /// Its standard error, shown when it stops before it is ready.
    log: tempfile::NamedTempFile,
}

impl ServerProcess {
    /// Starts it on `database_url` with the test credentials and waits until `/readyz` says
    /// ready; panics naming the exit status if it stops first.
    pub async fn start(database_url: &str) -> ServerProcess {
        ServerProcess::start_with(database_url, &[]).await
    }

    /// `start`, with more environment variables. A port picked free can be taken by another
    /// test before the server binds it: then it starts again on other ports.
    pub async fn start_with(database_url: &str, environment: &[(&str, &str)]) -> ServerProcess {
        for _ in 0..5 {
            let port = free_port();
            let log = tempfile::NamedTempFile::new().unwrap();
            let child = Command::new(icantkube())
                .arg("serve")
                .envs(environment.iter().copied())
                .env("DATABASE_URL", database_url)
                .env("ICANTKUBE_LISTEN", format!("127.0.0.1:{port}"))
                .env(
                    "ICANTKUBE_METRICS_LISTEN",
                    format!("127.0.0.1:{}", free_port()),
                )
                .env("ICANTKUBE_ADMIN_PASSWORD", ADMIN_PASSWORD)
                .env("ICANTKUBE_INGEST_TOKEN", GLOBAL_TOKEN)
                .env_remove("ICANTKUBE_DEMO")
                .stdout(Stdio::null())
                .stderr(log.reopen().unwrap())
                .spawn()
                .expect("the icantkube binary starts");
            let mut server = ServerProcess {
                child,
                base: format!("http://127.0.0.1:{port}"),
                log,
            };
            match server.wait_ready().await {
                Ok(()) => return server,
                Err(log) if log.contains("Address already in use") => continue,
                Err(log) => panic!("the server stopped before it was ready; its log ends:\n{log}"),
            }
        }
        panic!("five pairs of free ports were all taken before the server bound them");
    }

    /// Waits until `/readyz` says ready; the end of its log if it stops first.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Err(format!("{}\n{status}", tail.join("\n")));
            }
            let ready = client.get(format!("{}/readyz", self.base)).send().await;
            if ready.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            assert!(Instant::now() < deadline, "the server did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Registers a machine as admin, with `attributes` (a JSON object); panics unless it is
    /// created.
    pub async fn create_machine(&self, name: &str, profile: &str, attributes: serde_json::Value) {
        let created = reqwest::Client::new()
            .post(format!("{}/api/v1/machines", self.base))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .json(
                &serde_json::json!({ "name": name, "profile": profile, "attributes": attributes }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            created.status(),
            reqwest::StatusCode::CREATED,
            "creating {name}"
        );
    }

    /// Readings stored for a machine, as this server's API reports them.
    pub async fn reading_count(&self, machine: &str) -> i64 {
        let machine: serde_json::Value =
            reqwest::get(format!("{}/api/v1/machines/{machine}", self.base))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        machine["reading_count"].as_i64().expect("reading_count")
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The app's port.
    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// Sends SIGTERM, as Kubernetes does to stop a pod; answers how long it took to exit, or
    /// `None` if it was still running after `within`.
    pub async fn terminate(self, within: Duration) -> Option<Duration> {
        self.send_terminate();
        self.wait_exit(within).await
    }

    /// Sends SIGTERM and returns at once.
    pub fn send_terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits for it to exit; answers how long that took, or `None` if it was still running
    /// after `within`.
    pub async fn wait_exit(mut self, within: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < within {
            if self.child.try_wait().unwrap().is_some() {
                return Some(start.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Kills it with SIGKILL, as a crash would, and waits until it is gone.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
