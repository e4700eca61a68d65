//! The hostile-input suite (issue 12): hundreds of malformed or hostile requests, generated
//! from tables, across every entry point: ingest (JSON, CSV, headers, machine names in the
//! path), page query strings, the admin API, every admin form, every server function, oversize
//! headers, and slow or partial bodies on raw TCP. Each must be refused with a 4xx, store
//! nothing (every table but the readiness probe's is compared row by row, read-only, after each
//! request), and leave the server healthy (`/healthz` 200 within a second). Two exceptions: an
//! admin form whose content is wrong may go back to its page with a 303 and an `error=`
//! message; a public page asked for at an odd path or with an odd query string may answer, but
//! never with a 5xx or its markup echoed (the page router resolves `/machines/..` to the fleet
//! as a browser would, and messages from elsewhere are dropped by a redirect). A summary per
//! entry point is printed at the end (`--nocapture`).
//!
//! Beside it: readings at the largest values the schema accepts still draw the pages in time,
//! parallel password guesses on the sign-in form (alone, and mixed with Basic and Bearer) get
//! five checks and then 429, and `/healthz` stays fast while 256 clients guess an argon2
//! password at once.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use base64::Engine;
use icantkube::auth::AdminCredential;
use icantkube::configuration::Secret;
use icantkube::domain::time::{now_ms, to_rfc3339};
use leptos::server_fn::ServerFn;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{redirect, Client, Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::app::{
    admin_session, ai4i_json_batch, spawn_app_with, TestApp, ADMIN_PASSWORD, GLOBAL_TOKEN,
    MAX_BATCH_READINGS, MAX_BODY_BYTES,
};
use crate::support::snapshot::DatabaseSnapshot;

const JSON: &str = "application/json";
const CSV: &str = "text/csv";
const FORM: &str = "application/x-www-form-urlencoded";
const SENSORS: [&str; 5] = [
    "air_temperature",
    "process_temperature",
    "rotational_speed",
    "torque",
    "tool_wear",
];
const VALID: [&str; 5] = ["298.1", "308.6", "1551", "42.8", "0"];
const BODY_TIMEOUT: Duration = Duration::from_millis(500);
const HEADER_TIMEOUT: Duration = Duration::from_millis(800);
/// Markup a page must never echo as it came.
const MARKERS: [&str; 3] = ["<script>alert(1)", "<img src=x onerror", "<svg onload"];

/// What a case must get.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// A 4xx.
    Refused,
    /// A 4xx, or (an admin form whose content is wrong) a 303 back to a page starting with this
    /// path, carrying an `error=` message.
    Back(&'static str),
    /// A page: no 5xx, no redirect but to the same site without the page's messages, and a 2xx
    /// shows none of the markup the request carried.
    Page,
    /// A 4xx, or the connection cut without an answer (a client too slow to finish its headers).
    RefusedOrCut,
    /// The client hung up mid-request: there is no answer, only storage and health to check.
    HungUp,
}

/// What the server answered.
#[derive(Debug, Default)]
struct Answer {
    /// `None`: the connection closed without an answer.
    status: Option<u16>,
    location: String,
    /// A session cookie with a value was set.
    signs_in: bool,
    body: String,
}

impl Answer {
    async fn of(response: reqwest::Response) -> Answer {
        let headers = response.headers();
        let location = headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let signs_in = headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(opens_a_session);
        let status = Some(response.status().as_u16());
        let body = response.text().await.unwrap_or_default();
        Answer {
            status,
            location,
            signs_in,
            body,
        }
    }

    /// Parses a raw HTTP/1.1 answer; nothing at all is a cut connection.
    fn parse(raw: &[u8]) -> Answer {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok());
        let mut answer = Answer {
            status,
            body: body.to_string(),
            ..Answer::default()
        };
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("location") {
                answer.location = value.to_string();
            } else if name.eq_ignore_ascii_case("set-cookie") && opens_a_session(value) {
                answer.signs_in = true;
            }
        }
        answer
    }

    fn describe(&self) -> String {
        match self.status {
            Some(code) if self.location.is_empty() => code.to_string(),
            Some(code) => format!("{code} → {}", self.location),
            None => "cut".to_string(),
        }
    }
}

fn opens_a_session(set_cookie: &str) -> bool {
    set_cookie
        .strip_prefix("icantkube_session=")
        .is_some_and(|rest| !rest.starts_with(';') && !rest.is_empty())
}

/// Whether `answer` is what `expect` allows; `Err` says why not.
fn verdict(expect: Expect, answer: &Answer) -> Result<(), String> {
    if answer.signs_in {
        return Err("it opened an admin session".into());
    }
    let status = answer.status;
    let client_error = status.is_some_and(|code| (400..500).contains(&code));
    let ok = match expect {
        Expect::Refused => client_error,
        Expect::Back(page) => {
            client_error
                || (status == Some(303)
                    && answer.location.starts_with(page)
                    && answer.location.contains("error="))
        }
        Expect::Page => match status {
            Some(code) if (200..300).contains(&code) => {
                if let Some(marker) = MARKERS.iter().find(|m| answer.body.contains(*m)) {
                    return Err(format!("the page echoes {marker:?} unescaped"));
                }
                true
            }
            // A message from elsewhere is dropped by a redirect to the same page without it.
            Some(303) => {
                answer.location.starts_with('/')
                    && !answer.location.starts_with("//")
                    && !answer.location.contains("error=")
                    && !answer.location.contains("notice=")
            }
            Some(code) => (400..500).contains(&code),
            None => false,
        },
        Expect::RefusedOrCut => client_error || status.is_none(),
        Expect::HungUp => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {expect:?}, got {}", answer.describe()))
    }
}

/// One step of a request on raw TCP.
enum Step {
    Send(Vec<u8>),
    Pause(Duration),
    /// Close the connection without waiting for an answer.
    HangUp,
}

/// A request to send.
enum Request {
    Http(Box<RequestBuilder>),
    Raw(Vec<Step>),
}

impl Request {
    fn http(request: RequestBuilder) -> Request {
        Request::Http(Box::new(request))
    }
}

/// Cases and answers of one entry point.
#[derive(Default)]
struct Tally {
    cases: usize,
    answers: BTreeMap<String, usize>,
}

/// The app under attack, what it had stored before, and what each case got.
struct Suite {
    app: TestApp,
    /// Follows no redirects and keeps no idle connections (the server closes them after
    /// `HEADER_TIMEOUT`, which would race a reused one).
    client: Client,
    db: DatabaseSnapshot,
    /// Every table's rows, as last seen.
    stored: BTreeMap<String, String>,
    /// `icantkube_session=...` of a signed-in admin, and its CSRF token.
    session: String,
    csrf: String,
    dataset_id: i64,
    /// Password checks are limited per client address: cases that send a password each come
    /// from an address of their own, so each is really checked.
    next_address: u32,
    tally: BTreeMap<&'static str, Tally>,
    failures: Vec<String>,
}

fn client_builder() -> reqwest::ClientBuilder {
    Client::builder()
        .redirect(redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
}

impl Suite {
    async fn start() -> Suite {
        let app = spawn_app_with(|settings| {
            settings.connections.body_timeout = BODY_TIMEOUT;
            settings.connections.header_timeout = HEADER_TIMEOUT;
        })
        .await;
        let client = client_builder().build().unwrap();
        for (name, profile) in [
            ("mill-1", "ai4i2020"),
            ("mill-2", "ai4i2020"),
            ("engine-1", "turbofan"),
        ] {
            app.create_machine(name, profile).await;
        }
        let (session, csrf) = admin_session(&app, &client).await;
        let upload = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .part(
                "file",
                reqwest::multipart::Part::text(crate::support::data::milling_csv(3, 1, 60))
                    .file_name("mills.csv"),
            );
        let response = client
            .post(app.url("/datasets"))
            .header(COOKIE, &session)
            .multipart(upload)
            .send()
            .await
            .unwrap();
        let location = response.headers()[LOCATION].to_str().unwrap().to_string();
        let dataset_id = location
            .strip_prefix("/training/new?dataset=")
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("the setup upload was stored: {location}"));

        let db = DatabaseSnapshot::open(&app.database_url).await;
        let tables: Vec<&str> = db.tables().collect();
        assert!(
            tables.contains(&"readings") && tables.contains(&"admin_sessions"),
            "the snapshot covers the tables: {tables:?}"
        );
        let mut suite = Suite {
            app,
            client,
            db,
            stored: BTreeMap::new(),
            session,
            csrf,
            dataset_id,
            next_address: 0,
            tally: BTreeMap::new(),
            failures: Vec::new(),
        };
        suite.stored = suite.snapshot().await;
        suite
    }

    /// Every row of every table, as text.
    async fn snapshot(&self) -> BTreeMap<String, String> {
        self.db.take().await
    }

    /// A client whose connections come from a loopback address no other case used.
    fn fresh_client(&mut self) -> Client {
        self.next_address += 1;
        let [_, b, c, d] = (self.next_address + 2).to_be_bytes();
        let address = IpAddr::V4(Ipv4Addr::new(127, b.wrapping_add(1), c, d));
        client_builder().local_address(address).build().unwrap()
    }

    fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    fn ingest(&self, machine: &str, content_type: &str, body: impl Into<reqwest::Body>) -> Request {
        Request::http(
            self.client
                .post(self.url(&format!("/api/v1/machines/{machine}/readings")))
                .bearer_auth(GLOBAL_TOKEN)
                .header(CONTENT_TYPE, content_type)
                .body(body),
        )
    }

    /// An admin form post, url-encoded, with the admin's session cookie when `signed_in`.
    fn form(&self, path: &str, signed_in: bool, body: impl Into<String>) -> Request {
        let mut request = self
            .client
            .post(self.url(path))
            .header(CONTENT_TYPE, FORM)
            .body(body.into());
        if signed_in {
            request = request.header(COOKIE, &self.session);
        }
        Request::http(request)
    }

    /// Sends one case and checks the answer, the storage and the server's health.
    async fn case(
        &mut self,
        entry: &'static str,
        label: impl Into<String>,
        expect: Expect,
        request: Request,
    ) {
        let label = shorten(&label.into());
        let answer = match request {
            Request::Http(request) => match request.send().await {
                Ok(response) => Answer::of(response).await,
                Err(error) if error.is_builder() => {
                    self.failures.push(format!(
                        "[{entry}] {label}: the test built no request: {error}"
                    ));
                    Answer::default()
                }
                Err(error) if error.is_timeout() => {
                    self.failures
                        .push(format!("[{entry}] {label}: no answer within 10 s"));
                    Answer::default()
                }
                // The server closed the connection without answering.
                Err(_) => Answer::default(),
            },
            Request::Raw(steps) => self.raw(steps).await,
        };
        let tally = self.tally.entry(entry).or_default();
        tally.cases += 1;
        let code = match (expect, answer.status) {
            (Expect::HungUp, _) => "hung up".to_string(),
            (_, Some(code)) => code.to_string(),
            (_, None) => "cut".to_string(),
        };
        *tally.answers.entry(code).or_default() += 1;
        if let Err(why) = verdict(expect, &answer) {
            self.failures.push(format!(
                "[{entry}] {label}: {why}; body: {}",
                shorten(&answer.body)
            ));
        }
        let now = self.snapshot().await;
        if now != self.stored {
            let changed: Vec<&String> = now
                .keys()
                .filter(|table| now.get(*table) != self.stored.get(*table))
                .collect();
            self.failures.push(format!(
                "[{entry}] {label}: stored something in {changed:?} (answer {})",
                answer.describe()
            ));
            self.stored = now;
        }
        let started = Instant::now();
        let health = self
            .client
            .get(self.url("/healthz"))
            .timeout(Duration::from_secs(1))
            .send()
            .await;
        match health {
            Ok(response) if response.status() == StatusCode::OK => {}
            other => self.failures.push(format!(
                "[{entry}] {label}: /healthz did not answer 200 within 1 s after it \
                 ({:?} after {:?})",
                other.map(|r| r.status()),
                started.elapsed()
            )),
        }
    }

    /// Plays `steps` on a fresh connection and reads the answer until the server closes it.
    async fn raw(&self, steps: Vec<Step>) -> Answer {
        let address = self.app.address.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).await.unwrap();
        for step in steps {
            match step {
                Step::Send(bytes) => {
                    // The server may answer early and stop reading: stop sending then.
                    let sent =
                        tokio::time::timeout(Duration::from_secs(5), stream.write_all(&bytes))
                            .await;
                    if !matches!(sent, Ok(Ok(()))) {
                        break;
                    }
                }
                Step::Pause(pause) => tokio::time::sleep(pause).await,
                Step::HangUp => return Answer::default(),
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut received = Vec::new();
        let mut buffer = [0u8; 8192];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, stream.read(&mut buffer)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
                Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            }
        }
        Answer::parse(&received)
    }

    fn summary(&self) -> (usize, String) {
        let total: usize = self.tally.values().map(|t| t.cases).sum();
        let mut table = format!(
            "hostile requests: {total}\n{:<26} {:>6}  answers\n",
            "entry point", "cases"
        );
        for (entry, tally) in &self.tally {
            let answers = tally
                .answers
                .iter()
                .map(|(code, n)| format!("{code} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ");
            table.push_str(&format!("{entry:<26} {:>6}  {answers}\n", tally.cases));
        }
        (total, table)
    }
}

fn shorten(text: &str) -> String {
    let text: String = text.chars().take(160).collect();
    format!("{text:?}")
}

/// The sensor values object, with sensor `index` replaced by the raw JSON `value`.
fn values_with(replace: Option<(usize, &str)>) -> String {
    let pairs: Vec<String> = SENSORS
        .iter()
        .zip(VALID)
        .enumerate()
        .map(|(i, (key, valid))| {
            let value = match replace {
                Some((j, raw)) if i == j => raw,
                _ => valid,
            };
            format!("\"{key}\":{value}")
        })
        .collect();
    format!("{{{}}}", pairs.join(","))
}

/// A valid reading with `fields` (raw JSON members, each followed by a comma) before its values.
fn reading(fields: &str) -> String {
    format!("{{{fields}\"values\":{}}}", values_with(None))
}

/// An hour ago, as Unix seconds: a timestamp every check accepts.
fn an_hour_ago() -> i64 {
    now_ms() / 1000 - 3600
}

fn csv_header() -> String {
    SENSORS.join(",")
}

fn csv_row() -> String {
    VALID.join(",")
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

fn utf16be(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFE, 0xFF];
    bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    bytes
}

/// A raw HTTP/1.1 request head (closing the connection after the answer) and its body.
fn raw_request(method: &str, target: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn bearer() -> (&'static str, String) {
    ("Authorization", format!("Bearer {GLOBAL_TOKEN}"))
}

fn length(body: &[u8]) -> (&'static str, String) {
    ("Content-Length", body.len().to_string())
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// A multipart body: `(field, file name, content)` parts.
fn multipart(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match file_name {
            Some(file) => format!("form-data; name=\"{name}\"; filename=\"{file}\""),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(format!("Content-Disposition: {disposition}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

async fn ingest_json(s: &mut Suite) {
    const ENTRY: &str = "ingest JSON";
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |label: String, body: Vec<u8>| cases.push((label, body));

    // Every sensor, every wrong type.
    for (index, key) in SENSORS.iter().enumerate() {
        for bad in [
            r#""42""#,
            "true",
            "false",
            "null",
            "[]",
            "[42]",
            "{}",
            r#"{"v":42}"#,
        ] {
            add(
                format!("values.{key} = {bad}"),
                reading_with_values(&values_with(Some((index, bad)))),
            );
        }
    }
    // Numbers that are not finite, too large, out of range, or not JSON numbers at all.
    let long_number = format!("1{}", "0".repeat(400));
    for bad in [
        "NaN",
        "-NaN",
        "Infinity",
        "-Infinity",
        "inf",
        "nan",
        "1e309",
        "-1e309",
        "1e400",
        "1E99999999999999999999",
        "-1e99999999999999999999",
        &long_number,
        "1e13",
        "-1e13",
        "1000000000000.5",
        "0x10",
        "+1",
        "01",
        "1.",
        ".5",
        "1e",
        "1e+",
        "--1",
        "-",
        "1_000",
        "\u{0661}",
    ] {
        add(
            format!("values.torque = {bad}"),
            reading_with_values(&values_with(Some((3, bad)))),
        );
    }
    for (index, bad) in [
        (0, "199.999"),
        (0, "400.001"),
        (0, "1e-400"),
        (1, "500.5"),
        (2, "-1"),
        (2, "20000.1"),
        (3, "-0.001"),
        (3, "1000.001"),
        (4, "-0.5"),
        (4, "10000.5"),
    ] {
        add(
            format!("values.{} = {bad} (out of range)", SENSORS[index]),
            reading_with_values(&values_with(Some((index, bad)))),
        );
    }
    // Timestamps.
    let future = (now_ms() / 1000 + 2 * 86_400).to_string();
    let future_text = format!("\"{}\"", to_rfc3339(now_ms() + 2 * 86_400_000));
    let millis = now_ms().to_string();
    for bad in [
        r#""last tuesday""#,
        r#""""#,
        r#"" ""#,
        r#""2026-13-45T25:61:61Z""#,
        r#""1999-12-31T23:59:59Z""#,
        r#""1970-01-01T00:00:00Z""#,
        r#""9999-12-31T23:59:59Z""#,
        r#""2026-11-27""#,
        r#""2026-11-27T10:15:00""#,
        r#""2026-11-27T10:15:00Z\u0000""#,
        r#""2026-11-27T10:15:00+99:00""#,
        "-1",
        "0",
        "946684799",
        "1e20",
        "1e400",
        &future,
        &future_text,
        &millis,
        "true",
        "[]",
        "{}",
        r#"["2026-11-27T10:15:00Z"]"#,
    ] {
        add(
            format!("timestamp = {bad}"),
            reading(&format!("\"timestamp\":{bad},")).into_bytes(),
        );
    }
    // Sequence ids.
    let long_seq = format!("\"{}\"", "s".repeat(10_000));
    for bad in [
        "-1",
        "1.5",
        "1e3",
        "true",
        "null",
        "[]",
        "{}",
        r#""""#,
        &long_seq,
        "18446744073709551616",
        r#""\u0000""#,
        r#""a\nb""#,
        r#""\u001b[2J""#,
        r#""gw1\r\n000042""#,
        r#""\u007f""#,
    ] {
        add(
            format!("seq = {bad}"),
            reading(&format!("\"seq\":{bad},")).into_bytes(),
        );
    }
    // Labels.
    let long_mode = format!("\"{}\"", "X".repeat(100));
    for (field, bad) in [
        ("failure", "2"),
        ("failure", "-1"),
        ("failure", r#""yes""#),
        ("failure", r#""1""#),
        ("failure", "0.5"),
        ("failure", "[]"),
        ("failure_mode", "1"),
        ("failure_mode", r#""H D F""#),
        ("failure_mode", r#""<script>""#),
        ("failure_mode", &long_mode),
        ("failure_mode", "[]"),
        ("failure_mode", r#""HDF\u0000""#),
        ("time_to_failure", "-1"),
        ("time_to_failure", r#""5""#),
        ("time_to_failure", "true"),
        ("time_to_failure", "1e400"),
        ("time_to_failure", "[]"),
    ] {
        add(
            format!("{field} = {bad}"),
            reading(&format!("\"{field}\":{bad},")).into_bytes(),
        );
    }
    // Raw control characters inside a string, which JSON forbids.
    for byte in 0u8..0x20 {
        let mut body = b"{\"seq\":\"a".to_vec();
        body.push(byte);
        body.extend_from_slice(format!("b\",\"values\":{}}}", values_with(None)).as_bytes());
        add(format!("raw control byte {byte:#04x} in seq"), body);
    }
    // Bytes that are not UTF-8, in a string, a key and between tokens.
    for (name, bytes) in [
        ("0xff", &[0xFFu8][..]),
        ("0xfe", &[0xFE]),
        ("overlong /", &[0xC0, 0xAF]),
        ("surrogate half", &[0xED, 0xA0, 0x80]),
        ("lone continuation", &[0x80]),
        ("truncated sequence", &[0xE2, 0x82]),
        ("five-byte form", &[0xF8, 0x88, 0x80, 0x80, 0x80]),
    ] {
        let mut body = b"{\"seq\":\"a".to_vec();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\",\"values\":{}}}", values_with(None)).as_bytes());
        add(format!("invalid UTF-8 ({name}) in seq"), body);
    }
    let mut in_key = b"{\"se\xffq\":\"a\",".to_vec();
    in_key.extend_from_slice(format!("\"values\":{}}}", values_with(None)).as_bytes());
    add("invalid UTF-8 in a key".into(), in_key);
    let mut between = b"[\xff".to_vec();
    between.extend_from_slice(format!("{}]", reading("")).as_bytes());
    add("invalid UTF-8 between tokens".into(), between);
    // Escapes that do not decode.
    for bad in [
        r#""\uD800""#,
        r#""\uDC00x""#,
        r#""\x41""#,
        r#""\u12""#,
        r#""\U0041""#,
        r#""\""#,
    ] {
        add(
            format!("seq = {bad} (bad escape)"),
            reading(&format!("\"seq\":{bad},")).into_bytes(),
        );
    }
    // Byte-order marks.
    let one = reading("");
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(one.as_bytes());
    add("UTF-8 BOM before the document".into(), bom);
    add("UTF-16LE with its BOM".into(), utf16le(&format!("[{one}]")));
    add("UTF-16BE with its BOM".into(), utf16be(&one));
    let mut utf32 = vec![0xFF, 0xFE, 0x00, 0x00];
    utf32.extend(one.chars().flat_map(|c| (c as u32).to_le_bytes()));
    add("UTF-32LE with its BOM".into(), utf32);
    add("a BOM alone".into(), vec![0xEF, 0xBB, 0xBF]);
    let mut inside = b"[".to_vec();
    inside.extend_from_slice(&[0xEF, 0xBB, 0xBF]);
    inside.extend_from_slice(format!("{one}]").as_bytes());
    add("a BOM between tokens".into(), inside);
    // Deep nesting, 10,000 levels.
    let deep = 10_000;
    let arrays = format!("{}{}", "[".repeat(deep), "]".repeat(deep));
    add(
        format!("[[[...]]] {deep} deep"),
        arrays.clone().into_bytes(),
    );
    add(
        format!("[[[... {deep} deep, never closed"),
        "[".repeat(deep).into_bytes(),
    );
    add(
        format!("values = [[[...]]] {deep} deep"),
        format!("{{\"values\":{arrays}}}").into_bytes(),
    );
    add(
        format!("seq = [[[...]]] {deep} deep"),
        reading(&format!("\"seq\":{arrays},")).into_bytes(),
    );
    add(
        format!("torque = [[[...]]] {deep} deep"),
        reading_with_values(&values_with(Some((3, &arrays)))),
    );
    add(
        format!("{{\"a\":{{\"a\":...}}}} {deep} deep"),
        format!("{}1{}", "{\"a\":".repeat(deep), "}".repeat(deep)).into_bytes(),
    );
    add(
        format!("an array of {deep}-deep objects"),
        format!("[{}1{}]", "{\"v\":".repeat(deep), "}".repeat(deep)).into_bytes(),
    );
    // Duplicate keys: a reader that keeps the first and one that keeps the last would disagree.
    let v = values_with(None);
    let at = an_hour_ago();
    for (label, body) in [
        ("values twice", format!("{{\"values\":{v},\"values\":{v}}}")),
        (
            "seq twice",
            format!("{{\"seq\":\"d-1\",\"seq\":\"d-2\",\"values\":{v}}}"),
        ),
        (
            "timestamp twice",
            format!(
                "{{\"timestamp\":{at},\"timestamp\":{},\"values\":{v}}}",
                at + 1
            ),
        ),
        (
            "failure twice",
            format!("{{\"failure\":0,\"failure\":1,\"values\":{v}}}"),
        ),
        (
            "a sensor twice",
            format!(
                "{{\"values\":{}}}",
                v.replacen("\"torque\":42.8", "\"torque\":42.8,\"torque\":43.9", 1)
            ),
        ),
        (
            "values twice, in an array",
            format!("[{{\"values\":{v},\"values\":{v}}}]"),
        ),
    ] {
        add(format!("duplicate keys: {label}"), body.into_bytes());
    }
    // Unknown fields and sensors.
    for key in [
        "humidity",
        "__proto__",
        "constructor",
        "",
        "Values",
        "VALUES",
        "values ",
        "\\u0000",
        "é",
        "id",
    ] {
        add(
            format!("unknown field {key:?}"),
            reading(&format!("\"{key}\":1,")).into_bytes(),
        );
    }
    for key in ["humidity", "Torque", "torque ", "", "__proto__", "values"] {
        add(
            format!("unknown sensor {key:?}"),
            reading_with_values(&v.replacen('}', &format!(",\"{key}\":1}}"), 1)),
        );
    }
    // Truncated documents: every seventh prefix of a valid two-reading batch.
    let whole = format!(
        "[{{\"timestamp\":{at},\"seq\":\"t-1\",\"values\":{v},\"failure\":0}},{{\"seq\":2,\"values\":{v}}}]"
    );
    for cut in (1..whole.len()).step_by(7) {
        add(
            format!("truncated at byte {cut} of {}", whole.len()),
            whole.as_bytes()[..cut].to_vec(),
        );
    }
    // Documents that are empty, scalar, or not readings.
    for body in [
        "",
        " ",
        "\n\r\t",
        "null",
        "true",
        "false",
        "0",
        "-1",
        "1.5",
        "1e400",
        "\"reading\"",
        "[]",
        "[[]]",
        "[null]",
        "[1]",
        "[\"x\"]",
        "{}",
        "[{}]",
        "{\"values\":{}}",
        "{\"values\":null}",
        "{\"values\":[]}",
        "/* comment */ []",
        "[1,]",
    ] {
        add(format!("document {body:?}"), body.as_bytes().to_vec());
    }
    add(
        "two documents back to back".into(),
        format!("{one}{one}").into_bytes(),
    );
    add(
        "a valid array with a trailing comma".into(),
        format!("[{one},]").into_bytes(),
    );
    add(
        "a valid array, then garbage".into(),
        format!("[{one}] x").into_bytes(),
    );
    // A good reading, then a bad one: the batch is stored whole or not at all.
    for bad in [
        "1".to_string(),
        reading("\"seq\":-1,"),
        reading_string_with_values(&values_with(Some((3, "\"x\"")))),
    ] {
        add(
            format!("a good reading, then {}", shorten(&bad)),
            format!("[{one},{bad}]").into_bytes(),
        );
    }
    // Over the limits.
    add(
        format!(
            "{} readings (limit {MAX_BATCH_READINGS})",
            MAX_BATCH_READINGS + 1
        ),
        ai4i_json_batch(MAX_BATCH_READINGS + 1, "over").into_bytes(),
    );
    let small = "{\"values\":{}}";
    add(
        format!("{} empty readings", 5 * MAX_BATCH_READINGS),
        format!("[{}]", vec![small; 5 * MAX_BATCH_READINGS].join(",")).into_bytes(),
    );
    let mut padded = one.clone().into_bytes();
    padded.resize(MAX_BODY_BYTES + 1, b' ');
    add(
        format!("a valid reading padded to {} bytes", MAX_BODY_BYTES + 1),
        padded,
    );

    for (label, body) in cases {
        let request = s.ingest("mill-1", JSON, body);
        s.case(ENTRY, label, Expect::Refused, request).await;
    }

    // Over the body limit on raw TCP: declared, and chunked with no length at all.
    let head = |length: String| {
        raw_request(
            "POST",
            "/api/v1/machines/mill-1/readings",
            &[
                bearer(),
                ("Content-Type", JSON.to_string()),
                ("Content-Length", length),
            ],
            b"",
        )
    };
    s.case(
        ENTRY,
        "Content-Length one over the limit, body never sent",
        Expect::Refused,
        Request::Raw(vec![
            Step::Send(head((MAX_BODY_BYTES + 1).to_string())),
            Step::Pause(Duration::from_millis(100)),
        ]),
    )
    .await;
    s.case(
        ENTRY,
        "Content-Length 10^18",
        Expect::Refused,
        Request::Raw(vec![Step::Send(head("1000000000000000000".into()))]),
    )
    .await;
    let chunked_head = raw_request(
        "POST",
        "/api/v1/machines/mill-1/readings",
        &[
            bearer(),
            ("Content-Type", JSON.to_string()),
            ("Transfer-Encoding", "chunked".to_string()),
        ],
        b"",
    );
    let mut chunked = chunked_head.clone();
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
    chunked.extend_from_slice(b"1\r\n[\r\n");
    for _ in 0..(MAX_BODY_BYTES / (64 * 1024) + 2) {
        chunked.extend_from_slice(chunk.as_bytes());
    }
    chunked.extend_from_slice(b"1\r\n]\r\n0\r\n\r\n");
    s.case(
        ENTRY,
        format!("chunked, {} bytes in 64 KiB chunks", chunked.len()),
        Expect::Refused,
        Request::Raw(vec![Step::Send(chunked)]),
    )
    .await;
}

fn reading_string_with_values(values: &str) -> String {
    format!("{{\"values\":{values}}}")
}

fn reading_with_values(values: &str) -> Vec<u8> {
    reading_string_with_values(values).into_bytes()
}

async fn ingest_csv(s: &mut Suite) {
    const ENTRY: &str = "ingest CSV";
    let (h, r) = (csv_header(), csv_row());
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |label: String, body: Vec<u8>| cases.push((label, body));

    // Ragged rows, short and long, on the first or a later line.
    for fields in [1usize, 2, 3, 4, 6, 7] {
        let row: Vec<&str> = VALID.iter().copied().cycle().take(fields).collect();
        let row = row.join(",");
        add(
            format!("{fields} fields on line 2"),
            format!("{h}\n{row}\n{r}\n").into_bytes(),
        );
        add(
            format!("{fields} fields on line 3"),
            format!("{h}\n{r}\n{row}\n").into_bytes(),
        );
    }
    // Quotes.
    for row in [
        "\"298.1,308.6,1551,42.8,0",
        "298\"1,308.6,1551,42.8,0",
        "\"\",308.6,1551,42.8,0",
        "\"a\"\"b\",308.6,1551,42.8,0",
        "'298.1',308.6,1551,42.8,0",
        "\"298.1\"x,308.6,1551,42.8,0",
        "298.1,308.6,1551,42.8,\"0\n1\"",
    ] {
        add(
            format!("quoted row {row:?}"),
            format!("{h}\n{row}\n").into_bytes(),
        );
    }
    // Headers: missing, alone, empty, duplicated, unknown, incomplete.
    add("no header".into(), format!("{r}\n{r}\n").into_bytes());
    add("a header only".into(), format!("{h}\n").into_bytes());
    add("a header without a newline".into(), h.clone().into_bytes());
    add(
        "an empty header line".into(),
        format!("\n{r}\n").into_bytes(),
    );
    add(
        "a quoted header".into(),
        format!("\"{h}\"\n{r}\n").into_bytes(),
    );
    for (index, key) in SENSORS.iter().enumerate() {
        add(
            format!("sensor column {key} twice"),
            format!("{h},{key}\n{r},{}\n", VALID[index]).into_bytes(),
        );
        let without: Vec<&str> = SENSORS.iter().copied().filter(|k| k != key).collect();
        let values: Vec<&str> = VALID
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .map(|(_, v)| *v)
            .collect();
        add(
            format!("sensor column {key} missing"),
            format!("{}\n{}\n", without.join(","), values.join(",")).into_bytes(),
        );
    }
    let at = an_hour_ago();
    for (column, first, second) in [
        ("timestamp", at.to_string(), (at + 1).to_string()),
        ("seq", "c-1".to_string(), "c-2".to_string()),
        ("failure", "0".to_string(), "1".to_string()),
        ("failure_mode", "HDF".to_string(), "TWF".to_string()),
        ("time_to_failure", "5".to_string(), "6".to_string()),
    ] {
        add(
            format!("column {column} twice"),
            format!("{column},{h},{column}\n{first},{r},{second}\n").into_bytes(),
        );
    }
    for column in [
        "humidity",
        "",
        " ",
        "Torque",
        "__proto__",
        "torque;x",
        "\u{0}",
        "values",
    ] {
        add(
            format!("unknown column {column:?}"),
            format!("{h},{column}\n{r},1\n").into_bytes(),
        );
    }
    // Not UTF-8, or UTF-8 with a BOM, or another encoding.
    add(
        "0xff in the header".into(),
        [h.as_bytes(), b"\xff\n", r.as_bytes(), b"\n"].concat(),
    );
    add(
        "0xff in a cell".into(),
        [h.as_bytes(), b"\n298.1,308.6,1551,42.8\xff,0\n"].concat(),
    );
    add(
        "an overlong encoding in seq".into(),
        [b"seq,", h.as_bytes(), b"\n\xc0\xaf,", r.as_bytes(), b"\n"].concat(),
    );
    add(
        "a UTF-8 BOM, then an unknown column".into(),
        [
            b"\xef\xbb\xbf",
            h.as_bytes(),
            b",x\n",
            r.as_bytes(),
            b",1\n",
        ]
        .concat(),
    );
    add(
        "UTF-16LE with its BOM".into(),
        utf16le(&format!("{h}\n{r}\n")),
    );
    add(
        "a lone continuation byte".into(),
        [h.as_bytes(), b"\n\x80\n"].concat(),
    );
    // CR-only line ends, each file also wrong in some way.
    for (label, body) in [
        ("a ragged row", format!("{h}\r{r}\r298.1,308.6\r")),
        ("a NaN", format!("{h}\r{r}\r298.1,308.6,1551,NaN,0\r")),
        ("an unknown column", format!("{h},humidity\r{r},1\r")),
        ("mixed with CRLF, ragged", format!("{h}\r\n{r}\r298.1\r\n")),
    ] {
        add(format!("CR-only line ends, {label}"), body.into_bytes());
    }
    // Huge fields.
    let digits = "1".repeat(200 * 1024);
    add(
        "a 200 KiB number".into(),
        format!("{h}\n298.1,308.6,1551,{digits},0\n").into_bytes(),
    );
    add(
        "a 200 KiB quoted field full of commas and newlines".into(),
        format!("{h}\n\"{}\",308.6,1551,42.8,0\n", ",\n".repeat(100 * 1024)).into_bytes(),
    );
    add(
        "a 100 KiB seq".into(),
        format!("seq,{h}\n{},{r}\n", "s".repeat(100 * 1024)).into_bytes(),
    );
    add(
        "a header of 50,000 columns".into(),
        format!("{}\n{r}\n", vec!["x"; 50_000].join(",")).into_bytes(),
    );
    add(
        "a 300 KiB field (over the body limit)".into(),
        format!("{h}\n{},308.6,1551,42.8,0\n", "9".repeat(300 * 1024)).into_bytes(),
    );
    // Values.
    for bad in [
        "NaN", "inf", "-inf", "Infinity", "1e309", "1e13", "0x10", "1_000", "", "--1", "1,5", "4 2",
    ] {
        add(
            format!("torque {bad:?}"),
            format!("{h}\n298.1,308.6,1551,{bad},0\n").into_bytes(),
        );
    }
    add(
        "air_temperature 1e-400 (zero, out of range)".into(),
        format!("{h}\n1e-400,308.6,1551,42.8,0\n").into_bytes(),
    );
    // Timestamps, sequence ids and labels.
    for (column, bad) in [
        ("timestamp", "last tuesday"),
        ("timestamp", "1999-12-31T23:59:59Z"),
        ("timestamp", "1e20"),
        ("timestamp", "2026-13-01T00:00:00Z"),
        ("timestamp", "NaN"),
        ("seq", "a\u{0}b"),
        ("seq", "a\u{1b}[2J"),
        ("seq", &"s".repeat(200)),
        ("failure", "2"),
        ("failure", "yes"),
        ("failure_mode", "H D F"),
        ("failure_mode", "<script>"),
        ("time_to_failure", "-1"),
        ("time_to_failure", "x"),
        ("time_to_failure", "inf"),
    ] {
        add(
            format!("{column} {bad:?}"),
            format!("{column},{h}\n\"{bad}\",{r}\n").into_bytes(),
        );
    }
    // Other separators, and nothing at all.
    add(
        "tab-separated".into(),
        format!("{}\n{}\n", SENSORS.join("\t"), VALID.join("\t")).into_bytes(),
    );
    add(
        "semicolon-separated".into(),
        format!("{}\n{}\n", SENSORS.join(";"), VALID.join(";")).into_bytes(),
    );
    add("an empty body".into(), Vec::new());
    add("a newline".into(), b"\n".to_vec());
    add("a BOM alone".into(), b"\xef\xbb\xbf".to_vec());
    add(
        "a NUL byte in the header".into(),
        format!("{h}\0\n{r}\n").into_bytes(),
    );
    add(
        format!(
            "{} rows (limit {MAX_BATCH_READINGS})",
            MAX_BATCH_READINGS + 1
        ),
        format!("{h}\n{}", format!("{r}\n").repeat(MAX_BATCH_READINGS + 1)).into_bytes(),
    );

    for (label, body) in cases {
        let request = s.ingest("mill-1", CSV, body);
        s.case(ENTRY, label, Expect::Refused, request).await;
    }
}

async fn ingest_headers(s: &mut Suite) {
    const ENTRY: &str = "ingest headers";
    let body = reading("");
    let url = s.url("/api/v1/machines/mill-1/readings");
    // Content types: wrong, missing, malformed, duplicated.
    for content_type in [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "json",
        "application/json-seq",
        "application/ld+json",
        "text/csv2",
        "*/*",
        "",
        ";",
        "application/ json",
    ] {
        let request = s
            .client
            .post(&url)
            .bearer_auth(GLOBAL_TOKEN)
            .header(CONTENT_TYPE, content_type)
            .body(body.clone());
        s.case(
            ENTRY,
            format!("Content-Type {content_type:?}"),
            Expect::Refused,
            Request::http(request),
        )
        .await;
    }
    let request = s
        .client
        .post(&url)
        .bearer_auth(GLOBAL_TOKEN)
        .body(body.clone());
    s.case(
        ENTRY,
        "no Content-Type",
        Expect::Refused,
        Request::http(request),
    )
    .await;
    // Control characters an HTTP client would not send: on raw TCP.
    for content_type in [
        "application/json\x0b",
        "application/json\x7f",
        "application/\x00json",
    ] {
        let bytes = body.as_bytes();
        let request = raw_request(
            "POST",
            "/api/v1/machines/mill-1/readings",
            &[
                bearer(),
                ("Content-Type", content_type.into()),
                length(bytes),
            ],
            bytes,
        );
        s.case(
            ENTRY,
            format!("Content-Type {content_type:?}"),
            Expect::Refused,
            Request::Raw(vec![Step::Send(request)]),
        )
        .await;
    }
    let non_ascii = reqwest::header::HeaderValue::from_bytes(b"application/json\xff").unwrap();
    let request = s
        .client
        .post(&url)
        .bearer_auth(GLOBAL_TOKEN)
        .header(CONTENT_TYPE, non_ascii)
        .body(body.clone());
    s.case(
        ENTRY,
        "Content-Type with a non-ASCII byte",
        Expect::Refused,
        Request::http(request),
    )
    .await;
    for pair in [[JSON, CSV], [CSV, JSON], [JSON, JSON], [JSON, "text/plain"]] {
        let request = s
            .client
            .post(&url)
            .bearer_auth(GLOBAL_TOKEN)
            .header(CONTENT_TYPE, pair[0])
            .header(CONTENT_TYPE, pair[1])
            .body(body.clone());
        s.case(
            ENTRY,
            format!("two Content-Types {pair:?}"),
            Expect::Refused,
            Request::http(request),
        )
        .await;
    }

    // Authorization: missing, malformed, wrong, another machine's, duplicated.
    let other_token: Value = s
        .app
        .admin_post("/api/v1/machines/mill-2/tokens", json!({"label": "mill-2"}))
        .await
        .json()
        .await
        .unwrap();
    let other_token = other_token["token"].as_str().unwrap().to_string();
    s.stored = s.snapshot().await;
    let short = &GLOBAL_TOKEN[..GLOBAL_TOKEN.len() - 1];
    let authorizations: Vec<(String, Vec<u8>)> = [
        "Bearer".to_string(),
        "Bearer ".to_string(),
        "Bearer wrong".to_string(),
        "bearer wrong".to_string(),
        format!("Bearer {short}"),
        format!("Bearer {GLOBAL_TOKEN}x"),
        format!("Bearer {GLOBAL_TOKEN} extra"),
        format!("Bearer\t{GLOBAL_TOKEN}"),
        format!("Token {GLOBAL_TOKEN}"),
        GLOBAL_TOKEN.to_string(),
        basic("gateway", GLOBAL_TOKEN),
        basic(GLOBAL_TOKEN, ""),
        format!("Bearer {ADMIN_PASSWORD}"),
        basic("admin", ADMIN_PASSWORD),
        format!("Bearer {other_token}"),
        format!("Bearer {}", "t".repeat(10_000)),
        format!("Bearer {}", GLOBAL_TOKEN.to_uppercase()),
    ]
    .into_iter()
    .map(|value| (value.clone(), value.into_bytes()))
    .chain([(
        "Bearer <non-UTF-8 bytes>".to_string(),
        b"Bearer \xff\xfe".to_vec(),
    )])
    .collect();
    for (label, value) in authorizations {
        let request = s
            .client
            .post(&url)
            .header(
                AUTHORIZATION,
                reqwest::header::HeaderValue::from_bytes(&value).unwrap(),
            )
            .header(CONTENT_TYPE, JSON)
            .body(body.clone());
        s.case(
            ENTRY,
            format!("Authorization {label:?}"),
            Expect::Refused,
            Request::http(request),
        )
        .await;
    }
    let request = s
        .client
        .post(&url)
        .header(CONTENT_TYPE, JSON)
        .body(body.clone());
    s.case(
        ENTRY,
        "no Authorization",
        Expect::Refused,
        Request::http(request),
    )
    .await;
    let right = format!("Bearer {GLOBAL_TOKEN}");
    for pair in [
        [right.clone(), right.clone()],
        [right.clone(), "Bearer wrong".into()],
        ["Bearer wrong".into(), right.clone()],
        [right.clone(), format!("Bearer {other_token}")],
    ] {
        let request = s
            .client
            .post(&url)
            .header(AUTHORIZATION, &pair[0])
            .header(AUTHORIZATION, &pair[1])
            .header(CONTENT_TYPE, JSON)
            .body(body.clone());
        s.case(
            ENTRY,
            format!("two Authorizations {pair:?}"),
            Expect::Refused,
            Request::http(request),
        )
        .await;
    }
}

/// Odd machine names in the ingest path and the machine page, sent byte for byte on raw TCP
/// (an HTTP client would normalise `..` and encode the rest).
async fn machine_paths(s: &mut Suite) {
    let body = reading("").into_bytes();
    let long = "a".repeat(65);
    let very_long = "a".repeat(10_000);
    let names = [
        "..",
        "../mill-1",
        "..%2fmill-1",
        "%2e%2e",
        "%2E%2E%2Fmill-1",
        "%252e%252e",
        "mill-1%00",
        "%00",
        "mill-1%2f..%2fmill-1",
        "mill-1%0d%0aX-Injected:%201",
        "%ff",
        "%",
        "%zz",
        "MILL-1",
        "mill-1%20",
        "%20mill-1",
        "m\u{fc}ll",
        "m%C3%BCll",
        "mill-1;x",
        "\\..\\mill-1",
        "mill-1/",
        "",
        "-",
        &long,
        &very_long,
        "mill-1/../mill-1",
        "./mill-1",
        "mill-1%09",
    ];
    for name in names {
        let target = format!("/api/v1/machines/{name}/readings");
        let request = raw_request(
            "POST",
            &target,
            &[bearer(), ("Content-Type", JSON.into()), length(&body)],
            &body,
        );
        s.case(
            "ingest machine names",
            format!("POST {target}"),
            Expect::Refused,
            Request::Raw(vec![Step::Send(request)]),
        )
        .await;
        let target = format!("/machines/{name}");
        let request = raw_request("GET", &target, &[], b"");
        s.case(
            "machine page names",
            format!("GET {target}"),
            Expect::Page,
            Request::Raw(vec![Step::Send(request)]),
        )
        .await;
    }
}

/// Query strings on every page: markup, redirects, odd numbers, odd bytes, a huge query.
async fn page_queries(s: &mut Suite) {
    const ENTRY: &str = "page query strings";
    let pages = [
        "/",
        "/machines/mill-1",
        "/login",
        "/training",
        "/training/new",
        "/training/1",
        "/models",
    ];
    let huge = format!("x={}", "a".repeat(60 * 1024));
    let queries = [
        "error=<script>alert(1)</script>",
        "notice=<img src=x onerror=alert(1)>",
        "error=%22%3E%3Csvg%20onload%3Dalert(1)%3E",
        "next=javascript:alert(1)",
        "next=//evil.example",
        "dataset=-1",
        "dataset=99999999999999999999999",
        "dataset=<script>alert(1)</script>",
        "a=%ff%fe&%00=%00",
        "a[b][c]=1&a[b][c]=2",
        "error",
        &huge,
    ];
    for page in pages {
        for query in queries {
            // From elsewhere (messages are dropped), and followed from this site's own form
            // (messages shown, escaped), without and with a session.
            for (from_here, signed_in) in [(false, false), (true, false), (true, true)] {
                let mut request = s.client.get(s.url(&format!("{page}?{query}")));
                if from_here {
                    request = request.header("sec-fetch-site", "same-origin");
                }
                if signed_in {
                    request = request.header(COOKIE, &s.session);
                }
                let who = match (from_here, signed_in) {
                    (false, _) => "",
                    (true, false) => " (from this site)",
                    (true, true) => " (from this site, signed in)",
                };
                s.case(
                    ENTRY,
                    format!("GET {page}?{query}{who}"),
                    Expect::Page,
                    Request::http(request),
                )
                .await;
            }
        }
    }
    let request = raw_request("GET", &format!("/?x={}", "a".repeat(70 * 1024)), &[], b"");
    s.case(
        ENTRY,
        "GET / with a 70 KiB query",
        Expect::Refused,
        Request::Raw(vec![Step::Send(request)]),
    )
    .await;
    // The markup checks above mean something only if a page shows its message: one does, escaped.
    for page in ["/login", "/training/new", "/models"] {
        let shown = s
            .client
            .get(s.url(&format!("{page}?error=<script>alert(1)</script>")))
            .header("sec-fetch-site", "same-origin")
            .header(COOKIE, &s.session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if !shown.contains("&lt;script&gt;alert(1)") {
            s.failures.push(format!(
                "[{ENTRY}] {page} does not show its error message, escaped: the markup checks \
                 prove nothing"
            ));
        }
    }
}

async fn admin_api(s: &mut Suite) {
    const ENTRY: &str = "admin API";
    let new_machine = json!({"name": "mill-9", "profile": "ai4i2020"}).to_string();
    // Bodies that are wrong, with the right password.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let bodies: Vec<(String, Vec<u8>)> = [
        "".to_string(),
        "{".to_string(),
        "[]".to_string(),
        "null".to_string(),
        json!({"name": "../x", "profile": "ai4i2020"}).to_string(),
        json!({"name": "mill-9\u{0}", "profile": "ai4i2020"}).to_string(),
        json!({"name": "a".repeat(65), "profile": "ai4i2020"}).to_string(),
        json!({"name": "%2e%2e", "profile": "ai4i2020"}).to_string(),
        json!({"name": "MILL", "profile": "ai4i2020"}).to_string(),
        json!({"name": "m\u{fc}ll", "profile": "ai4i2020"}).to_string(),
        json!({"name": 9, "profile": "ai4i2020"}).to_string(),
        json!({"name": "mill-1", "profile": "ai4i2020"}).to_string(),
        r#"{"name":"mill-9","profile":"ai4i2020","profile":"turbofan"}"#.to_string(),
        r#"{"name":"mill-9","name":"mill-10","profile":"ai4i2020"}"#.to_string(),
        json!({"name": "mill-9", "profile": "ai4i2020", "display_name": "d".repeat(81)})
            .to_string(),
        json!({"name": "mill-9", "profile": "ai4i2020", "display_name": "  "}).to_string(),
        json!({"name": "mill-9", "profile": "ai4i2020",
               "attributes": (0..17).map(|i| (format!("k{i}"), "v".to_string())).collect::<BTreeMap<_, _>>()})
        .to_string(),
        json!({"name": "mill-9", "profile": "ai4i2020", "attributes": {"k".repeat(33): "v"}})
            .to_string(),
        json!({"name": "mill-9", "profile": "ai4i2020", "attributes": {"type": "X"}}).to_string(),
        json!({"name": "mill-9", "profile": "ai4i2020", "attributes": {"type": 1}}).to_string(),
        r#"{"name":"p-1","sensors":[{"key":"a","label":"A","unit":"","min":1e309}]}"#.to_string(),
        json!({"name": "p-1", "sensors": []}).to_string(),
        json!({"name": "p-1", "sensors": [{"key": "a", "label": "A", "unit": ""},
                                          {"key": "a", "label": "B", "unit": ""}]})
        .to_string(),
        json!({"name": "p-1", "sensors": [{"key": "a", "label": "A", "unit": "", "min": 5, "max": 1}]})
            .to_string(),
        json!({"name": "p-1", "sensors": [{"key": "timestamp", "label": "T", "unit": ""}]})
            .to_string(),
        json!({"name": "p-1", "sensors": [{"key": "a b", "label": "A", "unit": ""}]}).to_string(),
        json!({"name": "p-1", "profile": "ai4i2020", "sensors": [{"key": "a", "label": "A", "unit": ""}]})
            .to_string(),
        json!({"name": "mill-9", "profile": "toaster"}).to_string(),
        json!({"name": "mill-9", "profile": "ai4i2020", "colour": "red"}).to_string(),
        format!("{{\"name\":\"mill-9\",\"profile\":\"ai4i2020\",\"attributes\":{deep}}}"),
    ]
    .into_iter()
    .map(|body| (body.clone(), body.into_bytes()))
    .chain([
        (
            "invalid UTF-8 in the name".to_string(),
            b"{\"name\":\"mill-\xff\",\"profile\":\"ai4i2020\"}".to_vec(),
        ),
        (
            format!("{} bytes", MAX_BODY_BYTES + 1),
            {
                let mut body = new_machine.clone().into_bytes();
                body.resize(MAX_BODY_BYTES + 1, b' ');
                body
            },
        ),
    ])
    .collect();
    for (label, body) in bodies {
        let client = s.fresh_client();
        let request = client
            .post(s.url("/api/v1/machines"))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .header(CONTENT_TYPE, JSON)
            .body(body);
        s.case(
            ENTRY,
            format!("POST /api/v1/machines {label}"),
            Expect::Refused,
            Request::http(request),
        )
        .await;
    }
    // The right body with a credential that is missing, wrong or ambiguous.
    let right = basic("admin", ADMIN_PASSWORD);
    let credentials: Vec<Vec<String>> = vec![
        vec![],
        vec![basic("admin", "guess")],
        vec![basic("admin", &format!("{ADMIN_PASSWORD} "))],
        vec![basic("admin", "")],
        vec![format!("Bearer guess")],
        vec![format!("Bearer {GLOBAL_TOKEN}")],
        vec!["Basic !!!not-base64!!!".into()],
        vec![format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("no-colon")
        )],
        vec![format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(b"admin:\xff\xfe")
        )],
        vec![format!(
            "Digest username=\"admin\", response=\"{ADMIN_PASSWORD}\""
        )],
        vec![ADMIN_PASSWORD.to_string()],
        vec![right.clone(), right.clone()],
        vec![right.clone(), basic("admin", "guess")],
        vec![basic("admin", "guess"), right.clone()],
        vec![format!("Bearer {ADMIN_PASSWORD}"), right.clone()],
    ];
    for presented in credentials {
        let client = s.fresh_client();
        let mut request = client
            .post(s.url("/api/v1/machines"))
            .header(CONTENT_TYPE, JSON)
            .body(new_machine.clone());
        for value in &presented {
            request = request.header(AUTHORIZATION, value);
        }
        s.case(
            ENTRY,
            format!("POST /api/v1/machines with Authorization {presented:?}"),
            Expect::Refused,
            Request::http(request),
        )
        .await;
    }
    // Tokens and promotions.
    let cases: Vec<(Method, &str, String, bool)> = vec![
        (
            Method::POST,
            "/api/v1/machines/nope/tokens",
            "{}".into(),
            true,
        ),
        (
            Method::POST,
            "/api/v1/machines/mill-1/tokens",
            json!({"label": "l".repeat(65)}).to_string(),
            true,
        ),
        (
            Method::POST,
            "/api/v1/machines/mill-1/tokens",
            "{".into(),
            true,
        ),
        (
            Method::POST,
            "/api/v1/machines/mill-1/tokens",
            json!({"label": 1}).to_string(),
            true,
        ),
        (
            Method::POST,
            "/api/v1/machines/mill-1/tokens",
            r#"{"label":"a","label":"b"}"#.into(),
            true,
        ),
        (
            Method::POST,
            "/api/v1/machines/mill-1/tokens",
            json!({"label": "a", "scope": "all"}).to_string(),
            true,
        ),
        (
            Method::POST,
            "/api/v1/machines/mill-1/tokens",
            "{}".into(),
            false,
        ),
        (
            Method::PUT,
            "/api/v1/machines/mill-1/model",
            "{}".into(),
            true,
        ),
        (
            Method::PUT,
            "/api/v1/machines/mill-1/model",
            json!({"model_version_id": "1"}).to_string(),
            true,
        ),
        (
            Method::PUT,
            "/api/v1/machines/mill-1/model",
            json!({"model_version_id": 99}).to_string(),
            true,
        ),
        (
            Method::PUT,
            "/api/v1/machines/mill-1/model",
            json!({"model_version_id": -1}).to_string(),
            true,
        ),
        (
            Method::PUT,
            "/api/v1/machines/mill-1/model",
            r#"{"model_version_id":1e400}"#.into(),
            true,
        ),
        (
            Method::PUT,
            "/api/v1/machines/mill-1/model",
            r#"{"model_version_id":9223372036854775808}"#.into(),
            true,
        ),
        (
            Method::PUT,
            "/api/v1/machines/mill-1/model",
            json!({"model_version_id": 1, "reason": "r".repeat(201)}).to_string(),
            true,
        ),
        (
            Method::PUT,
            "/api/v1/machines/mill-1/model",
            json!({"model_version_id": 1, "by": "someone"}).to_string(),
            true,
        ),
        (
            Method::PUT,
            "/api/v1/machines/nope/model",
            json!({"model_version_id": 1}).to_string(),
            true,
        ),
        (
            Method::PUT,
            "/api/v1/machines/mill-1/model",
            json!({"model_version_id": 1}).to_string(),
            false,
        ),
        (
            Method::DELETE,
            "/api/v1/machines/mill-1",
            String::new(),
            true,
        ),
        (Method::PATCH, "/api/v1/machines/mill-1", "{}".into(), true),
        (
            Method::GET,
            "/api/v1/machines/mill-1/readings",
            String::new(),
            true,
        ),
        (Method::PUT, "/api/v1/machines", new_machine.clone(), true),
        (
            Method::DELETE,
            "/api/v1/machines/mill-1/model",
            String::new(),
            true,
        ),
    ];
    for (method, path, body, with_password) in cases {
        let client = s.fresh_client();
        let mut request = client
            .request(method.clone(), s.url(path))
            .header(CONTENT_TYPE, JSON)
            .body(body.clone());
        if with_password {
            request = request.basic_auth("admin", Some(ADMIN_PASSWORD));
        }
        let who = if with_password { "" } else { " (no password)" };
        s.case(
            ENTRY,
            format!("{method} {path} {body}{who}"),
            Expect::Refused,
            Request::http(request),
        )
        .await;
    }
}

async fn admin_forms(s: &mut Suite) {
    const ENTRY: &str = "admin forms";
    let csrf = s.csrf.clone();
    let session = s.session.clone();
    let dataset = s.dataset_id;

    // Sign-in: every case from an address of its own, so each password is really checked.
    let login_bodies: Vec<(String, String, Option<&str>)> = vec![
        ("no body".into(), String::new(), Some(FORM)),
        ("no content type".into(), "password=guess".into(), None),
        (
            "JSON".into(),
            json!({"password": ADMIN_PASSWORD}).to_string(),
            Some(JSON),
        ),
        ("no password".into(), "next=/".into(), Some(FORM)),
        ("an empty password".into(), "password=".into(), Some(FORM)),
        (
            "a wrong password".into(),
            "password=guess".into(),
            Some(FORM),
        ),
        (
            "the password with a trailing space".into(),
            format!("password={ADMIN_PASSWORD}%20"),
            Some(FORM),
        ),
        (
            "a 100 KiB password".into(),
            format!("password={}", "p".repeat(100 * 1024)),
            Some(FORM),
        ),
        (
            "the password twice".into(),
            format!("password={ADMIN_PASSWORD}&password={ADMIN_PASSWORD}"),
            Some(FORM),
        ),
        (
            "a wrong and the right password".into(),
            format!("password=guess&password={ADMIN_PASSWORD}"),
            Some(FORM),
        ),
        (
            "password[]".into(),
            format!("password[]={ADMIN_PASSWORD}"),
            Some(FORM),
        ),
        (
            "bad percent-encoding".into(),
            "password=%zz%ff".into(),
            Some(FORM),
        ),
        (
            "a wrong password, next //evil.example".into(),
            "password=guess&next=//evil.example".into(),
            Some(FORM),
        ),
        (
            "a wrong password, next with CRLF".into(),
            "password=guess&next=/%0d%0aSet-Cookie:%20icantkube_session=x".into(),
            Some(FORM),
        ),
        ("a NUL password".into(), "password=%00".into(), Some(FORM)),
    ];
    for (label, body, content_type) in login_bodies {
        let client = s.fresh_client();
        let mut request = client.post(s.url("/login")).body(body);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        s.case(
            ENTRY,
            format!("POST /login: {label}"),
            Expect::Back("/login?"),
            Request::http(request),
        )
        .await;
    }
    // A wrong password under Basic on the form: the form reads only its field.
    let client = s.fresh_client();
    let request = client
        .post(s.url("/login"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .header(CONTENT_TYPE, FORM)
        .body("password=guess");
    s.case(
        ENTRY,
        "POST /login: a wrong password, the right one as Basic",
        Expect::Back("/login?"),
        Request::http(request),
    )
    .await;

    // Every form without a session, without or with a wrong token, and with odd cookies.
    let forms = [
        ("/logout", "", "/"),
        (
            "/training",
            "dataset_id=1&target=x&algorithm=linear",
            "/training/new",
        ),
        ("/training/1/cancel", "", "/training/1"),
        ("/models/1/promote", "machine=", "/models"),
        ("/datasets/from-machine", "machine=mill-1", "/training/new"),
    ];
    for (path, fields, back) in forms {
        let with = |extra: &str| {
            if fields.is_empty() {
                extra.to_string()
            } else if extra.is_empty() {
                fields.to_string()
            } else {
                format!("{fields}&{extra}")
            }
        };
        let variants: Vec<(String, Option<String>, String, &str)> = vec![
            (
                "no session".into(),
                None,
                with(&format!("csrf={csrf}")),
                FORM,
            ),
            ("no token".into(), Some(session.clone()), with(""), FORM),
            (
                "a wrong token".into(),
                Some(session.clone()),
                with("csrf=forged"),
                FORM,
            ),
            (
                "an empty token".into(),
                Some(session.clone()),
                with("csrf="),
                FORM,
            ),
            (
                "the token with a space".into(),
                Some(session.clone()),
                with(&format!("csrf={csrf}%20")),
                FORM,
            ),
            (
                "a garbage cookie".into(),
                Some("icantkube_session=garbage".into()),
                with(&format!("csrf={csrf}")),
                FORM,
            ),
            (
                "an empty cookie".into(),
                Some("icantkube_session=".into()),
                with(&format!("csrf={csrf}")),
                FORM,
            ),
            (
                "a 10 KiB cookie".into(),
                Some(format!("icantkube_session={}", "c".repeat(10 * 1024))),
                with(&format!("csrf={csrf}")),
                FORM,
            ),
            (
                "a garbage cookie before the session".into(),
                Some(format!("icantkube_session=garbage; {session}")),
                with(&format!("csrf={csrf}")),
                FORM,
            ),
            (
                "the token as JSON".into(),
                Some(session.clone()),
                json!({"csrf": csrf}).to_string(),
                JSON,
            ),
            (
                "the token as a query parameter".into(),
                Some(session.clone()),
                with(""),
                FORM,
            ),
        ];
        for (label, cookie, body, content_type) in variants {
            let target = if label == "the token as a query parameter" {
                format!("{path}?csrf={csrf}")
            } else {
                path.to_string()
            };
            let mut request = s
                .client
                .post(s.url(&target))
                .header(CONTENT_TYPE, content_type)
                .body(body);
            if let Some(cookie) = cookie {
                request = request.header(COOKIE, cookie);
            }
            s.case(
                ENTRY,
                format!("POST {path}: {label}"),
                Expect::Back(back),
                Request::http(request),
            )
            .await;
        }
        // The admin's password instead of a session: forms take only the session.
        let request = s
            .client
            .post(s.url(path))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .header(CONTENT_TYPE, FORM)
            .body(with(&format!("csrf={csrf}")));
        s.case(
            ENTRY,
            format!("POST {path}: Basic instead of a session"),
            Expect::Refused,
            Request::http(request),
        )
        .await;
    }

    // A training run whose fields are wrong: back to the form, nothing started.
    let start = |fields: &str| format!("csrf={csrf}&{fields}");
    let valid = format!("dataset_id={dataset}&target=Machine%20failure&algorithm=random_forest");
    let training: Vec<String> = vec![
        "target=Machine%20failure&algorithm=random_forest".into(),
        "dataset_id=abc&target=Machine%20failure&algorithm=random_forest".into(),
        "dataset_id=-1&target=Machine%20failure&algorithm=random_forest".into(),
        "dataset_id=99999999999999999999&target=Machine%20failure&algorithm=random_forest".into(),
        "dataset_id=1e3&target=Machine%20failure&algorithm=random_forest".into(),
        "dataset_id=0x1&target=Machine%20failure&algorithm=random_forest".into(),
        "dataset_id=1%20OR%201=1&target=Machine%20failure&algorithm=random_forest".into(),
        format!("dataset_id={dataset}&algorithm=random_forest"),
        format!("dataset_id={dataset}&target=&algorithm=random_forest"),
        format!("dataset_id={dataset}&target=nope&algorithm=random_forest"),
        format!("dataset_id={dataset}&target=%3Cscript%3E&algorithm=random_forest"),
        format!("dataset_id={dataset}&target=Machine%20failure"),
        format!("dataset_id={dataset}&target=Machine%20failure&algorithm=svm"),
        format!("dataset_id={dataset}&target=Machine%20failure&algorithm=%00"),
        format!("{valid}&trees=0"),
        format!("{valid}&trees=1001"),
        format!("{valid}&trees=-1"),
        format!("{valid}&trees=1e3"),
        format!("{valid}&trees=abc"),
        format!("{valid}&trees=99999999999999999999999"),
        format!("{valid}&max_depth=0"),
        format!("{valid}&max_depth=65"),
        format!("{valid}&min_samples_leaf=0"),
        format!("{valid}&min_samples_leaf=1001"),
        format!("{valid}&role_0=bogus"),
        format!("{valid}&role_3=%00"),
        format!("{valid}&machine=nope"),
        format!("{valid}&machine=..%2fmill-1"),
        format!("{valid}&machine=engine-1"),
    ];
    for fields in training {
        let request = s.form("/training", true, start(&fields));
        s.case(
            ENTRY,
            format!("POST /training {fields}"),
            Expect::Back("/training/new"),
            request,
        )
        .await;
    }
    let request = s.form("/training", true, format!("csrf={csrf}&%zz=%zz"));
    s.case(
        ENTRY,
        "POST /training with bad percent-encoding",
        Expect::Back("/training/new"),
        request,
    )
    .await;

    // Ids in the path: not numbers, negative, too large, of nothing.
    let ids = [
        "abc",
        "-1",
        "0",
        "99",
        "99999999999999999999",
        "-9223372036854775809",
        "1.5",
        "1e3",
        "0x1",
        "%00",
        "%20",
        "1%2f..",
    ];
    for id in ids {
        for (path, fields, back) in [
            (
                format!("/training/{id}/cancel"),
                String::new(),
                "/training/",
            ),
            (
                format!("/models/{id}/promote"),
                "&machine=".to_string(),
                "/models",
            ),
        ] {
            let request = s.form(&path, true, format!("csrf={csrf}{fields}"));
            s.case(ENTRY, format!("POST {path}"), Expect::Back(back), request)
                .await;
        }
    }
    for (fields, label) in [
        ("machine=..%2fmill-1".to_string(), "machine ../mill-1"),
        ("machine=mill-1%00".to_string(), "machine mill-1\\0"),
        (
            format!("machine={}", "m".repeat(1000)),
            "a 1000-character machine",
        ),
        (
            format!("machine=&reason={}", "r".repeat(201)),
            "a 201-character reason",
        ),
    ] {
        let request = s.form("/models/1/promote", true, format!("csrf={csrf}&{fields}"));
        s.case(
            ENTRY,
            format!("POST /models/1/promote {label}"),
            Expect::Back("/models"),
            request,
        )
        .await;
    }
    for fields in [
        "machine=nope",
        "machine=",
        "machine=..%2fmill-1",
        "machine=mill-1",
        "machine=engine-1",
        "",
        "machine[]=mill-1",
    ] {
        let request = s.form(
            "/datasets/from-machine",
            true,
            format!("csrf={csrf}&{fields}"),
        );
        s.case(
            ENTRY,
            format!("POST /datasets/from-machine {fields}"),
            Expect::Back("/training/new"),
            request,
        )
        .await;
    }

    // Uploads: no session, no or a wrong token, files that are not data sets, broken bodies.
    let boundary = "hostile-boundary";
    let csv = crate::support::data::milling_csv(5, 1, 30);
    let header_only = csv.lines().next().unwrap().to_string();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let binary: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let ragged = format!("{header_only}\n1,2,3\n");
    // The session's token, then a file called a.csv holding `content`.
    let with_file = |content: &[u8]| {
        multipart(
            boundary,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("a.csv"), content),
            ],
        )
    };
    let uploads: Vec<(&str, bool, Vec<u8>)> = vec![
        ("no session", false, with_file(csv.as_bytes())),
        (
            "no token",
            true,
            multipart(boundary, &[("file", Some("a.csv"), csv.as_bytes())]),
        ),
        (
            "a wrong token",
            true,
            multipart(
                boundary,
                &[
                    ("csrf", None, b"forged"),
                    ("file", Some("a.csv"), csv.as_bytes()),
                ],
            ),
        ),
        (
            "the file before the token",
            true,
            multipart(
                boundary,
                &[
                    ("file", Some("a.csv"), csv.as_bytes()),
                    ("csrf", None, csrf.as_bytes()),
                ],
            ),
        ),
        (
            "a PNG",
            true,
            multipart(
                boundary,
                &[
                    ("csrf", None, csrf.as_bytes()),
                    ("file", Some("a.png"), png),
                ],
            ),
        ),
        ("random bytes", true, with_file(&binary)),
        ("an empty file", true, with_file(b"")),
        ("a header only", true, with_file(header_only.as_bytes())),
        ("ragged rows", true, with_file(ragged.as_bytes())),
        (
            "invalid UTF-8",
            true,
            multipart(
                boundary,
                &[
                    ("csrf", None, csrf.as_bytes()),
                    (
                        "file",
                        Some("a.csv"),
                        &[csv.as_bytes(), b"\xff\xfe,\xc0\xaf\n"].concat(),
                    ),
                ],
            ),
        ),
        (
            "no file field",
            true,
            multipart(
                boundary,
                &[("csrf", None, csrf.as_bytes()), ("name", None, b"x")],
            ),
        ),
        (
            "a 101-character name",
            true,
            multipart(
                boundary,
                &[
                    ("csrf", None, csrf.as_bytes()),
                    ("name", None, "n".repeat(101).as_bytes()),
                    ("file", Some("a.csv"), csv.as_bytes()),
                ],
            ),
        ),
        ("a BOM alone", true, with_file(b"\xef\xbb\xbf")),
        ("one column", true, with_file(b"x\n1\n2\n")),
        ("no closing boundary", true, {
            let mut body = with_file(csv.as_bytes());
            body.truncate(body.len() - boundary.len() - 8);
            body
        }),
        (
            "garbage instead of parts",
            true,
            b"this is not multipart at all".to_vec(),
        ),
    ];
    for (label, signed_in, body) in uploads {
        let mut request = s
            .client
            .post(s.url("/datasets"))
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        if signed_in {
            request = request.header(COOKIE, &session);
        }
        s.case(
            ENTRY,
            format!("POST /datasets: {label}"),
            Expect::Back("/training/new"),
            Request::http(request),
        )
        .await;
    }
    for (label, content_type) in [
        ("url-encoded", FORM.to_string()),
        (
            "multipart without a boundary",
            "multipart/form-data".to_string(),
        ),
        ("a CSV body", CSV.to_string()),
    ] {
        let request = s
            .client
            .post(s.url("/datasets"))
            .header(COOKIE, &session)
            .header(CONTENT_TYPE, content_type)
            .body(format!("csrf={csrf}"));
        s.case(
            ENTRY,
            format!("POST /datasets: {label}"),
            Expect::Back("/training/new"),
            Request::http(request),
        )
        .await;
    }
}

async fn server_functions(s: &mut Suite) {
    const ENTRY: &str = "server functions";
    use app::routes::{fleet, login, machine, models, training, training_new, training_run};
    let get_machine = machine::GetMachine::PATH;
    let get_run = training_run::GetTrainingRun::PATH;
    let get_form = training_new::GetTrainingForm::PATH;
    let argless = [
        fleet::GetFleet::PATH,
        models::GetModels::PATH,
        training::GetTrainingRuns::PATH,
        login::GetViewer::PATH,
    ];
    let session = s.session.clone();
    let long_name = format!("name={}", "a".repeat(100 * 1024));
    let mut cases: Vec<(String, String, &str, Option<String>)> = Vec::new();
    for body in [
        "",
        "nam=mill-1",
        "name=nope",
        "name=",
        "name=..%2fmill-1",
        "name=mill-1%00",
        "name=%ff%fe",
        "name[]=mill-1",
        "name[a]=mill-1",
        &long_name,
        "%zz",
    ] {
        cases.push((get_machine.into(), body.into(), FORM, None));
    }
    cases.push((
        get_machine.into(),
        json!({"name": "nope"}).to_string(),
        JSON,
        None,
    ));
    for body in [
        "",
        "id=abc",
        "id=",
        "id=1.5",
        "id=1e3",
        "id=99999999999999999999",
        "id=-1",
        "id=0",
        "id=99",
        "id[]=1",
        "id=%00",
    ] {
        cases.push((get_run.into(), body.into(), FORM, None));
    }
    cases.push((get_run.into(), json!({"id": "x"}).to_string(), JSON, None));
    for (body, signed_in) in [
        ("", false),
        ("dataset=1", false),
        ("dataset=abc", true),
        ("dataset=-1", true),
        ("dataset=99", true),
        ("dataset=99999999999999999999", true),
        ("dataset=1.5", true),
        ("dataset[]=1", true),
    ] {
        cases.push((
            get_form.into(),
            body.into(),
            FORM,
            signed_in.then(|| session.clone()),
        ));
    }
    for path in [
        "/_fn/nope",
        "/_fn/",
        "/_fn",
        "/_fn/get_machine",
        "/_fn/GET_FLEET",
    ] {
        cases.push((path.into(), String::new(), FORM, None));
    }
    for path in [get_machine, argless[0]] {
        cases.push((format!("{path}x"), "name=mill-1".into(), FORM, None));
        cases.push((format!("{path}/"), "name=mill-1".into(), FORM, None));
        cases.push((path.to_uppercase(), "name=mill-1".into(), FORM, None));
    }
    for (path, body, content_type, cookie) in cases {
        let mut request = s
            .client
            .post(s.url(&path))
            .header(CONTENT_TYPE, content_type)
            .body(body.clone());
        if let Some(cookie) = &cookie {
            request = request.header(COOKIE, cookie);
        }
        let who = if cookie.is_some() { " (signed in)" } else { "" };
        s.case(
            ENTRY,
            format!("POST {path} {body}{who}"),
            Expect::Refused,
            Request::http(request),
        )
        .await;
    }
    // The admin's form data with the password instead of a session.
    let request = s
        .client
        .post(s.url(get_form))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .header(CONTENT_TYPE, FORM)
        .body("");
    s.case(
        ENTRY,
        format!("POST {get_form} with Basic instead of a session"),
        Expect::Refused,
        Request::http(request),
    )
    .await;
    // Methods the functions do not take.
    for path in argless.iter().chain([&get_machine, &get_run, &get_form]) {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            let request = s.client.request(method.clone(), s.url(path));
            s.case(
                ENTRY,
                format!("{method} {path}"),
                Expect::Refused,
                Request::http(request),
            )
            .await;
        }
    }
    // Raw paths an HTTP client would normalise.
    for path in [
        format!("/_fn/../{}", get_machine.trim_start_matches("/_fn/")),
        format!("{get_machine}%00"),
        format!("/_fn/%2e%2e/{}", get_machine.trim_start_matches("/_fn/")),
    ] {
        let body = b"name=nope";
        let request = raw_request(
            "POST",
            &path,
            &[("Content-Type", FORM.into()), length(body)],
            body,
        );
        s.case(
            ENTRY,
            format!("POST {path} (raw)"),
            Expect::Refused,
            Request::Raw(vec![Step::Send(request)]),
        )
        .await;
    }
}

async fn oversize_headers(s: &mut Suite) {
    const ENTRY: &str = "oversize headers";
    let body = reading("").into_bytes();
    let kib = |n: usize| "h".repeat(n * 1024);
    let ingest_with = |extra: Vec<(&'static str, String)>| {
        let mut headers = vec![bearer(), ("Content-Type", JSON.to_string()), length(&body)];
        headers.extend(extra);
        raw_request("POST", "/api/v1/machines/mill-1/readings", &headers, &body)
    };
    let cases: Vec<(String, Vec<u8>)> = vec![
        (
            "GET /healthz with a 100 KiB header".into(),
            raw_request("GET", "/healthz", &[("X-Big", kib(100))], b""),
        ),
        (
            "GET /healthz with a 1 MiB header".into(),
            raw_request("GET", "/healthz", &[("X-Big", kib(1024))], b""),
        ),
        (
            "ingest with a 100 KiB header".into(),
            ingest_with(vec![("X-Big", kib(100))]),
        ),
        (
            "ingest with a 100 KiB Authorization".into(),
            raw_request(
                "POST",
                "/api/v1/machines/mill-1/readings",
                &[
                    ("Authorization", format!("Bearer {}", kib(100))),
                    ("Content-Type", JSON.to_string()),
                    length(&body),
                ],
                &body,
            ),
        ),
        (
            "ingest with 200 headers".into(),
            ingest_with((0..200).map(|i| ("X-Many", format!("value-{i}"))).collect()),
        ),
        (
            "GET / with a 100 KiB cookie".into(),
            raw_request(
                "GET",
                "/",
                &[("Cookie", format!("icantkube_session={}", kib(100)))],
                b"",
            ),
        ),
        (
            "GET with a 100 KiB path".into(),
            raw_request("GET", &format!("/machines/{}", kib(100)), &[], b""),
        ),
    ];
    for (label, request) in cases {
        s.case(
            ENTRY,
            label,
            Expect::Refused,
            Request::Raw(vec![Step::Send(request)]),
        )
        .await;
    }
}

async fn slow_and_partial_bodies(s: &mut Suite) {
    const ENTRY: &str = "slow and partial bodies";
    let ingest = "/api/v1/machines/mill-1/readings";
    let json_head = |extra: Vec<(&'static str, String)>| {
        let mut headers = vec![bearer(), ("Content-Type", JSON.to_string())];
        headers.extend(extra);
        raw_request("POST", ingest, &headers, b"")
    };
    let valid = reading("");
    let stall = BODY_TIMEOUT * 3;
    let cases: Vec<(&str, Expect, Vec<Step>)> = vec![
        (
            "ingest: Content-Length 400, 20 bytes, stall",
            Expect::Refused,
            vec![
                Step::Send(json_head(vec![("Content-Length", "400".into())])),
                Step::Send(valid.as_bytes()[..20].to_vec()),
                Step::Pause(stall),
            ],
        ),
        (
            "ingest: Content-Length 400, 20 bytes, hang up",
            Expect::HungUp,
            vec![
                Step::Send(json_head(vec![("Content-Length", "400".into())])),
                Step::Send(valid.as_bytes()[..20].to_vec()),
                Step::HangUp,
            ],
        ),
        (
            "ingest: a whole valid reading, Content-Length one more, hang up",
            Expect::HungUp,
            vec![
                Step::Send(json_head(vec![(
                    "Content-Length",
                    (valid.len() + 1).to_string(),
                )])),
                Step::Send(valid.as_bytes().to_vec()),
                Step::Pause(Duration::from_millis(100)),
                Step::HangUp,
            ],
        ),
        (
            "ingest: a whole valid reading, Content-Length one more, stall",
            Expect::Refused,
            vec![
                Step::Send(json_head(vec![(
                    "Content-Length",
                    (valid.len() + 1).to_string(),
                )])),
                Step::Send(valid.as_bytes().to_vec()),
                Step::Pause(stall),
            ],
        ),
        (
            "ingest: chunked, one chunk, stall",
            Expect::Refused,
            vec![
                Step::Send(json_head(vec![("Transfer-Encoding", "chunked".into())])),
                Step::Send(format!("{:x}\r\n{}\r\n", valid.len(), valid).into_bytes()),
                Step::Pause(stall),
            ],
        ),
        (
            "ingest: chunked, a whole valid reading, no last chunk, hang up",
            Expect::HungUp,
            vec![
                Step::Send(json_head(vec![("Transfer-Encoding", "chunked".into())])),
                Step::Send(format!("{:x}\r\n{}\r\n", valid.len(), valid).into_bytes()),
                Step::Pause(Duration::from_millis(100)),
                Step::HangUp,
            ],
        ),
        (
            "ingest: chunked, chunk of 100 declared, 10 sent, hang up",
            Expect::HungUp,
            vec![
                Step::Send(json_head(vec![("Transfer-Encoding", "chunked".into())])),
                Step::Send(format!("64\r\n{}", &valid[..10]).into_bytes()),
                Step::HangUp,
            ],
        ),
        (
            "ingest: chunked, invalid chunk size",
            Expect::Refused,
            vec![
                Step::Send(json_head(vec![("Transfer-Encoding", "chunked".into())])),
                Step::Send(b"zz\r\n[]\r\n0\r\n\r\n".to_vec()),
            ],
        ),
        (
            "ingest: chunked, chunk size overflowing 64 bits",
            Expect::Refused,
            vec![
                Step::Send(json_head(vec![("Transfer-Encoding", "chunked".into())])),
                Step::Send(b"fffffffffffffffffff\r\n[]\r\n0\r\n\r\n".to_vec()),
            ],
        ),
        (
            "ingest: an invalid body sent a byte every 40 ms",
            Expect::Refused,
            {
                let body = b"[{\"values\":1}]";
                let mut steps = vec![Step::Send(json_head(vec![(
                    "Content-Length",
                    body.len().to_string(),
                )]))];
                for byte in body {
                    steps.push(Step::Send(vec![*byte]));
                    steps.push(Step::Pause(Duration::from_millis(40)));
                }
                steps
            },
        ),
        (
            "ingest: two different Content-Lengths",
            Expect::Refused,
            vec![Step::Send(
                [
                    json_head(vec![
                        ("Content-Length", valid.len().to_string()),
                        ("Content-Length", (valid.len() + 5).to_string()),
                    ]),
                    valid.as_bytes().to_vec(),
                ]
                .concat(),
            )],
        ),
        (
            "ingest: Transfer-Encoding gzip, chunked",
            Expect::Refused,
            vec![Step::Send(
                [
                    json_head(vec![("Transfer-Encoding", "gzip, chunked".into())]),
                    format!("{:x}\r\n{}\r\n0\r\n\r\n", valid.len(), valid).into_bytes(),
                ]
                .concat(),
            )],
        ),
        (
            "ingest: Transfer-Encoding xchunked",
            Expect::Refused,
            vec![Step::Send(
                [
                    json_head(vec![("Transfer-Encoding", "xchunked".into())]),
                    valid.as_bytes().to_vec(),
                ]
                .concat(),
            )],
        ),
        (
            "ingest: a negative Content-Length",
            Expect::Refused,
            vec![Step::Send(json_head(vec![("Content-Length", "-1".into())]))],
        ),
        (
            "ingest: Expect 100-continue over the body limit",
            Expect::Refused,
            vec![
                Step::Send(json_head(vec![
                    ("Content-Length", (MAX_BODY_BYTES * 4).to_string()),
                    ("Expect", "100-continue".into()),
                ])),
                Step::Pause(Duration::from_millis(100)),
            ],
        ),
        (
            "headers cut off before their end, then silence",
            Expect::RefusedOrCut,
            vec![Step::Send(
                format!("POST {ingest} HTTP/1.1\r\nHost: test\r\nContent-Type: {JSON}\r\n")
                    .into_bytes(),
            )],
        ),
        (
            "headers a byte every 100 ms, past the header timeout",
            Expect::RefusedOrCut,
            {
                let head = format!("GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: {}\r\n\r\n", "s".repeat(20));
                head.bytes()
                    .flat_map(|byte| [Step::Send(vec![byte]), Step::Pause(Duration::from_millis(100))])
                    .collect()
            },
        ),
        (
            "sign-in: Content-Length 100, 10 bytes, stall",
            Expect::Refused,
            vec![
                Step::Send(raw_request(
                    "POST",
                    "/login",
                    &[("Content-Type", FORM.into()), ("Content-Length", "100".into())],
                    b"password=g",
                )),
                Step::Pause(stall),
            ],
        ),
        (
            "admin API: Content-Length 400, 10 bytes, stall",
            Expect::Refused,
            vec![
                Step::Send(raw_request(
                    "POST",
                    "/api/v1/machines",
                    &[
                        ("Authorization", basic("admin", ADMIN_PASSWORD)),
                        ("Content-Type", JSON.into()),
                        ("Content-Length", "400".into()),
                    ],
                    b"{\"name\":\"",
                )),
                Step::Pause(stall),
            ],
        ),
        (
            "garbage instead of a request line",
            Expect::RefusedOrCut,
            vec![Step::Send(b"GARBAGE\r\n\r\n".to_vec())],
        ),
        (
            "a header without a colon",
            Expect::Refused,
            vec![Step::Send(
                b"GET /healthz HTTP/1.1\r\nHost: test\r\nNoColonHere\r\n\r\n".to_vec(),
            )],
        ),
        (
            "a space before a header's colon",
            Expect::Refused,
            vec![Step::Send(
                [
                    format!("POST {ingest} HTTP/1.1\r\nHost: test\r\nAuthorization : Bearer {GLOBAL_TOKEN}\r\nContent-Type: {JSON}\r\nContent-Length: {}\r\n\r\n", valid.len()).into_bytes(),
                    valid.as_bytes().to_vec(),
                ]
                .concat(),
            )],
        ),
        (
            "a folded header line",
            Expect::Refused,
            vec![Step::Send(
                [
                    format!("POST {ingest} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer\r\n {GLOBAL_TOKEN}\r\nContent-Type: {JSON}\r\nContent-Length: {}\r\n\r\n", valid.len()).into_bytes(),
                    valid.as_bytes().to_vec(),
                ]
                .concat(),
            )],
        ),
        (
            "a NUL byte in a header",
            Expect::Refused,
            vec![Step::Send(
                b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Nul: a\0b\r\n\r\n".to_vec(),
            )],
        ),
    ];
    for (label, expect, steps) in cases {
        s.case(ENTRY, label, expect, Request::Raw(steps)).await;
    }
    // A multipart upload that stalls mid-file.
    let boundary = "slow-boundary";
    let csrf = s.csrf.clone();
    let mut head = multipart(boundary, &[("csrf", None, csrf.as_bytes())]);
    head.truncate(head.len() - boundary.len() - 6);
    head.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nUDI,Type\n1,M\n"
        )
        .as_bytes(),
    );
    let request = raw_request(
        "POST",
        "/datasets",
        &[
            ("Cookie", s.session.clone()),
            (
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            ),
            ("Content-Length", "100000".into()),
        ],
        &head,
    );
    s.case(
        ENTRY,
        "upload: the file stalls after its first line",
        Expect::Back("/training/new"),
        Request::Raw(vec![Step::Send(request), Step::Pause(stall)]),
    )
    .await;
}

#[tokio::test]
async fn hostile_requests_are_refused_store_nothing_and_leave_the_server_healthy() {
    let started = Instant::now();
    let mut s = Suite::start().await;
    ingest_json(&mut s).await;
    ingest_csv(&mut s).await;
    ingest_headers(&mut s).await;
    machine_paths(&mut s).await;
    page_queries(&mut s).await;
    admin_api(&mut s).await;
    admin_forms(&mut s).await;
    server_functions(&mut s).await;
    oversize_headers(&mut s).await;
    slow_and_partial_bodies(&mut s).await;

    // The bodies the cases spoil are valid as they are: the same requests, unspoiled, store.
    let controls = [
        (JSON, reading("\"seq\":\"control-1\",").into_bytes()),
        (
            CSV,
            format!("seq,{}\ncontrol-2,{}\n", csv_header(), csv_row()).into_bytes(),
        ),
    ];
    for (content_type, body) in controls {
        let response = s
            .client
            .post(s.url("/api/v1/machines/mill-1/readings"))
            .bearer_auth(GLOBAL_TOKEN)
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        if response.status() != StatusCode::CREATED {
            s.failures.push(format!(
                "the {content_type} control, unspoiled, was not stored: {}",
                response.status()
            ));
        }
    }

    let (total, table) = s.summary();
    eprintln!("{table}");
    eprintln!("hostile suite took {:?}", started.elapsed());
    assert!(
        s.failures.is_empty(),
        "{} of {total} hostile requests were not handled as they should be:\n{}",
        s.failures.len(),
        s.failures.join("\n")
    );
    assert!(total >= 250, "only {total} hostile requests were sent");
}

#[tokio::test]
async fn pages_draw_in_time_at_the_largest_values_the_schema_accepts() {
    let app = crate::support::app::spawn_app().await;
    app.create_machine("mill-edge", "ai4i2020").await;
    let custom = app
        .admin_post(
            "/api/v1/machines",
            json!({"name": "probe-1", "sensors": [
                {"key": "a", "label": "A", "unit": ""},
                {"key": "b", "label": "B", "unit": "u"}]}),
        )
        .await;
    assert_eq!(custom.status(), StatusCode::CREATED);
    let start = an_hour_ago();
    // The AI4I profile's declared ranges, both ends; the custom sensors have none, so the
    // magnitude cap (10^12) and the smallest subnormals are the extremes.
    let mill: Vec<Value> = (0..40)
        .map(|i| {
            let (low, high) = (i % 2 == 0, i % 4 < 2);
            json!({"timestamp": start + i * 30, "values": {
                "air_temperature": if low { 200.0 } else { 400.0 },
                "process_temperature": if high { 500.0 } else { 200.0 },
                "rotational_speed": if low { 0.0 } else { 20_000.0 },
                "torque": if high { 1000.0 } else { 0.0 },
                "tool_wear": if low { 10_000.0 } else { 0.0 },
            }})
        })
        .collect();
    let extremes = [1e12, -1e12, 5e-324, -5e-324, 0.0, 999_999_999_999.999_9];
    let probe: Vec<Value> = (0..40)
        .map(|i| {
            let a = extremes[i % extremes.len()];
            let b = extremes[(i * 5 + 1) % extremes.len()];
            json!({"timestamp": start + i as i64 * 30, "values": {"a": a, "b": b}})
        })
        .collect();
    for (machine, batch) in [("mill-edge", mill), ("probe-1", probe)] {
        let response = app
            .post_readings(machine, JSON, &Value::Array(batch).to_string())
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{machine}");
        assert_eq!(app.reading_count(machine).await, 40);
    }
    for path in ["/machines/mill-edge", "/machines/probe-1", "/"] {
        let started = Instant::now();
        let page = tokio::time::timeout(Duration::from_secs(5), app.page(path))
            .await
            .unwrap_or_else(|_| panic!("{path} did not answer within 5 s"));
        if path == "/" {
            assert!(
                page.contains("probe-1") && page.contains("mill-edge"),
                "{page}"
            );
        } else {
            assert!(page.contains("<svg"), "{path} draws its charts");
        }
        eprintln!("{path} at the extremes: {:?}", started.elapsed());
    }
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

/// A wrong guess's answer: checked (`true`: the password was verified and was wrong) or
/// turned away by the limit (`false`); anything else fails the test.
async fn guessed(request: RequestBuilder) -> bool {
    let response = request.send().await.unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    match status {
        StatusCode::UNAUTHORIZED => true,
        StatusCode::SEE_OTHER if location.contains("error=wrong%20user%20name%20or%20password") => {
            true
        }
        StatusCode::TOO_MANY_REQUESTS => {
            assert!(response.headers().contains_key("retry-after"));
            false
        }
        other => panic!("a wrong guess got {other} {location}"),
    }
}

/// A wrong guess by the sign-in form (`0`), HTTP Basic (`1`) or Bearer (`2`).
fn guess(app: &TestApp, client: &Client, way: usize, password: &str) -> RequestBuilder {
    match way % 3 {
        0 => client
            .post(app.url("/login"))
            .form(&[("password", password), ("next", "/")]),
        1 => client
            .post(app.url("/api/v1/machines"))
            .basic_auth("admin", Some(password))
            .json(&json!({"name": "guessed", "profile": "ai4i2020"})),
        _ => client
            .post(app.url("/api/v1/machines"))
            .bearer_auth(password)
            .json(&json!({"name": "guessed", "profile": "ai4i2020"})),
    }
}

/// Sends `n` wrong guesses at once, the `i`th by `way(i)`; answers how many were checked and
/// how many limited.
async fn parallel_guesses(app: &TestApp, n: usize, way: fn(usize) -> usize) -> (usize, usize) {
    let client = client_builder().build().unwrap();
    let guesses: Vec<_> = (0..n)
        .map(|i| tokio::spawn(guessed(guess(app, &client, way(i), &format!("guess-{i}")))))
        .collect();
    let mut checked = 0;
    for guess in guesses {
        if guess.await.unwrap() {
            checked += 1;
        }
    }
    (checked, n - checked)
}

#[tokio::test]
async fn twenty_parallel_guesses_on_the_sign_in_form_get_five_checks_and_then_429() {
    let app = crate::support::app::spawn_app().await;
    assert_eq!(parallel_guesses(&app, 20, |_| 0).await, (5, 15));
    let client = client_builder().build().unwrap();
    let right = guess(&app, &client, 0, ADMIN_PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(right.headers().get(SET_COOKIE).is_none());
}

#[tokio::test]
async fn parallel_guesses_spread_over_the_form_basic_and_bearer_share_five_checks() {
    let app = crate::support::app::spawn_app().await;
    assert_eq!(parallel_guesses(&app, 21, |i| i).await, (5, 16));
    let listed: Vec<Value> = app.get_json("/api/v1/machines").await;
    assert!(
        listed.is_empty(),
        "a guess registered a machine: {listed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_within_a_second_while_256_clients_guess_an_argon2_password() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::from_b64("aG9zdGlsZXN1aXRlc2FsdA").unwrap();
    let hash = argon2::Argon2::default()
        .hash_password(ADMIN_PASSWORD.as_bytes(), &salt)
        .unwrap()
        .to_string();
    let app = spawn_app_with(move |settings| {
        settings.admin = AdminCredential::Hash(Secret::new(hash));
        // The production default: 256 guessers and the probe all hold a connection.
        settings.connections.max_connections = 1024;
    })
    .await;
    // Each guesser comes from an address of its own, so the per-address limit lets every one
    // of them have its five argon2 checks: 1,280 queued behind the two that run at once.
    let checked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let guessers: Vec<_> = (0..256u32)
        .map(|i| {
            let [_, _, c, d] = (i + 2).to_be_bytes();
            let client = client_builder()
                .local_address(IpAddr::V4(Ipv4Addr::new(127, 77, c, d)))
                .build()
                .unwrap();
            let request = guess(&app, &client, i as usize, &format!("guess-{i}"));
            let checked = checked.clone();
            tokio::spawn(async move {
                let mut request = Some(request);
                while let Some(next) = request.take() {
                    let again = next.try_clone();
                    if !guessed(next).await {
                        break;
                    }
                    checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    request = again;
                }
            })
        })
        .collect();
    // Let the queue build, then probe while it drains.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let probe = client_builder().build().unwrap();
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        let response = probe
            .get(app.url("/healthz"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .expect("/healthz answers");
        assert_eq!(response.status(), StatusCode::OK);
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let done = checked.load(std::sync::atomic::Ordering::Relaxed);
    let still_guessing = guessers.iter().filter(|g| !g.is_finished()).count();
    for guesser in &guessers {
        guesser.abort();
    }
    eprintln!(
        "/healthz p100 {slowest:?} over 20 calls; {done} argon2 checks done meanwhile, \
         {still_guessing} of 256 guessers still waiting"
    );
    assert!(
        done >= 2 && still_guessing >= 128,
        "the guessing was not under way: {done} checks done, {still_guessing} guessers left"
    );
    assert!(
        slowest < Duration::from_secs(1),
        "/healthz took {slowest:?} while the password was being guessed"
    );
}
