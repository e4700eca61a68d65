//! The README's "Who may call what" table against the app. The routes the router declares
//! (read from `server/src/http/mod.rs`), the pages (`path!` in `app/src/lib.rs`) and the server
//! functions (`#[server]` in `app/src`, and every one registered at run time) must each have a
//! row, and every row must name something the app has. Each row is then sent to a running
//! server without its credential and with wrong ones (refused: 401 or 403, or back to
//! `/login`), and with the right one (served: not refused, and the route exists).
//!
//! The source readers are deliberately small: they look for `.route("PATH", METHOD(..))`,
//! `.nest("PREFIX", ROUTER)`, `path!("PATH")` and `#[server(...)] ... fn NAME(ARGS)`, and fail
//! naming the file when they find something they do not understand.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, LOCATION};
use reqwest::{redirect, Client, Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};

use crate::support::app::{
    add_user, admin_session, spawn_app, user_session_at, TestApp, ADMIN_PASSWORD, GLOBAL_TOKEN,
};
use crate::support::database::QueuedRun;

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
const ROUTER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/mod.rs");
const APP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../app/src");
const SECTION: &str = "### Who may call what";
/// How a server function's path ends in the table: the build appends a number to its name.
const HASH: &str = "<hash>";
/// Forms that take `multipart/form-data` (a file upload); the others are url-encoded.
const MULTIPART_FORMS: [&str; 1] = ["/datasets"];
/// Fields a form must carry to decode at all (besides `csrf`): without them it is refused with
/// 422 before its credential is looked at, which would tell nothing about the credential.
const REQUIRED_FIELDS: [(&str, &str, &str); 1] = [("/datasets/from-machine", "machine", "mill-1")];
/// A user of each role below admin, who must be refused what admins alone may do.
const BELOW_ADMIN: [(&str, &str); 2] = [("route-engineer", "engineer"), ("route-viewer", "viewer")];
const USER_PASSWORD: &str = "route table password";

/// What a row says the caller must present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credential {
    None,
    /// `Authorization: Bearer`, the global ingest token or one of the machine's.
    IngestToken,
    /// The admin password as HTTP Basic or Bearer.
    AdminPassword,
    /// A user's name and password in the sign-in form's `user` and `password` fields (no
    /// `user`: the bootstrap admin).
    PasswordField,
    /// The admin's session cookie and its CSRF token as the form's `csrf` field.
    AdminForm,
    /// An engineer's (or admin's) session cookie and its CSRF token.
    EngineerForm,
    /// Any signed-in user's session cookie and its CSRF token.
    UserForm,
    /// The admin's session cookie.
    AdminSession,
}

impl Credential {
    fn parse(cell: &str) -> Result<Credential, String> {
        let (kind, how) = cell
            .split_once(':')
            .map_or((cell.trim(), ""), |(kind, how)| (kind.trim(), how.trim()));
        match (kind, how) {
            ("none", "") => Ok(Credential::None),
            ("ingest token", _) => Ok(Credential::IngestToken),
            ("admin", "Basic or Bearer") => Ok(Credential::AdminPassword),
            ("user", "the name and password fields") => Ok(Credential::PasswordField),
            ("admin", "session + CSRF token") => Ok(Credential::AdminForm),
            ("engineer", "session + CSRF token") => Ok(Credential::EngineerForm),
            ("any user", "session + CSRF token") => Ok(Credential::UserForm),
            ("admin session", "") => Ok(Credential::AdminSession),
            _ => Err(format!(
                "unknown credential {cell:?}; the test knows `none`, `ingest token: ...`, \
                 `admin: Basic or Bearer`, `user: the name and password fields`, \
                 `admin: session + CSRF token`, `engineer: session + CSRF token`, \
                 `any user: session + CSRF token` and \
                 `admin session`"
            )),
        }
    }
}

/// A row of the README's table.
#[derive(Debug, Clone)]
struct Row {
    /// 1-based line in README.md, for messages.
    line: usize,
    method: Method,
    path: String,
    credential: Credential,
}

impl Row {
    fn key(&self) -> (String, String) {
        (self.method.to_string(), shape(&self.path))
    }

    fn describe(&self) -> String {
        format!("README.md:{} {} {}", self.line, self.method, self.path)
    }
}

/// A path with every `{parameter}` (or Leptos `:parameter`) written `{}`, for comparing.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with(':') || (segment.starts_with('{') && segment.ends_with('}')) {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The table under `### Who may call what`.
fn table(readme: &str) -> Vec<Row> {
    let lines: Vec<&str> = readme.lines().collect();
    let start = lines
        .iter()
        .position(|line| line.trim() == SECTION)
        .unwrap_or_else(|| panic!("README.md has no {SECTION:?} section"));
    let mut rows = Vec::new();
    let mut in_table = false;
    for (index, line) in lines.iter().enumerate().skip(start + 1) {
        let line = line.trim();
        if line.starts_with('#') {
            break;
        }
        if !line.starts_with('|') {
            if in_table {
                break;
            }
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if !in_table {
            assert_eq!(
                cells,
                ["method", "path", "credential"],
                "README.md:{}: the table's header",
                index + 1
            );
            in_table = true;
            continue;
        }
        if cells
            .iter()
            .all(|cell| cell.chars().all(|c| c == '-' || c == ':'))
        {
            continue;
        }
        let [method, path, credential] = cells[..] else {
            panic!(
                "README.md:{}: a row needs 3 cells, has {}",
                index + 1,
                cells.len()
            );
        };
        rows.push(Row {
            line: index + 1,
            method: Method::from_bytes(method.as_bytes())
                .unwrap_or_else(|_| panic!("README.md:{}: method {method:?}", index + 1)),
            path: path.trim_matches('`').to_string(),
            credential: Credential::parse(credential)
                .unwrap_or_else(|why| panic!("README.md:{}: {why}", index + 1)),
        });
    }
    assert!(!rows.is_empty(), "the {SECTION:?} table has no rows");
    rows
}

/// The text inside the parentheses opening at `open`.
fn inside_parentheses(source: &str, open: usize) -> &str {
    let mut depth = 0;
    for (offset, c) in source[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &source[open + 1..open + offset];
                }
            }
            _ => {}
        }
    }
    panic!(
        "unbalanced parentheses from {:?}",
        &source[open..(open + 60).min(source.len())]
    );
}

/// The `"..."` literals in `text`, in order (no escapes: paths have none).
fn string_literals(text: &str) -> Vec<&str> {
    text.split('"').skip(1).step_by(2).collect()
}

/// Offsets just past each occurrence of `needle`.
fn after_each<'a>(source: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    source
        .match_indices(needle)
        .map(move |(at, _)| at + needle.len())
}

/// `(method, path)` of every route the router source declares, with the prefix of the
/// `.nest(PREFIX, ROUTER)` its router is mounted under.
fn declared_routes(source: &str) -> BTreeSet<(String, String)> {
    let nests: Vec<(String, String)> = after_each(source, ".nest(")
        .map(|at| {
            let args = inside_parentheses(source, at - 1);
            let prefix = string_literals(args)
                .first()
                .unwrap_or_else(|| panic!("{ROUTER}: .nest({args}) without a literal prefix"))
                .to_string();
            let router = args.rsplit(',').next().unwrap().trim().to_string();
            (router, prefix)
        })
        .collect();
    let mut routes = BTreeSet::new();
    for at in after_each(source, ".route(") {
        let args = inside_parentheses(source, at - 1);
        let path = *string_literals(args)
            .first()
            .unwrap_or_else(|| panic!("{ROUTER}: .route({args}) without a literal path"));
        let handlers = &args[args.find(path).unwrap() + path.len()..];
        let methods: Vec<&str> = ["get", "post", "put", "delete", "patch", "head", "options"]
            .into_iter()
            .filter(|method| {
                handlers.match_indices(&format!("{method}(")).any(|(i, _)| {
                    !handlers[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                })
            })
            .collect();
        assert!(
            !methods.is_empty(),
            "{ROUTER}: no method router in .route({args})"
        );
        // The `let ROUTER = Router::new()...;` statement the route belongs to, if any.
        let before = &source[..at];
        let router = before.rfind("let ").and_then(|let_at| {
            let statement = &before[let_at + 4..];
            (!statement.contains(';')).then(|| {
                statement
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap()
                    .to_string()
            })
        });
        let prefix = router
            .and_then(|router| nests.iter().find(|(name, _)| *name == router))
            .map_or("", |(_, prefix)| prefix.as_str());
        for method in methods {
            routes.insert((method.to_uppercase(), shape(&format!("{prefix}{path}"))));
        }
    }
    assert!(!routes.is_empty(), "{ROUTER}: no .route(...) found");
    routes
}

/// The pages: every `path!("...")` of the app's routes, answered to GET.
fn declared_pages(source: &str) -> BTreeSet<(String, String)> {
    let pages: BTreeSet<_> = after_each(source, "path!(")
        .map(|at| {
            let args = inside_parentheses(source, at - 1);
            let path = *string_literals(args)
                .first()
                .unwrap_or_else(|| panic!("app/src/lib.rs: path!({args}) without a literal"));
            ("GET".to_string(), shape(path))
        })
        .collect();
    assert!(!pages.is_empty(), "app/src/lib.rs: no path!(...) found");
    pages
}

/// A `#[server]` function found in the app's sources.
#[derive(Debug)]
struct ServerFn {
    file: PathBuf,
    name: String,
    prefix: String,
    /// `(name, type)` of each argument.
    args: Vec<(String, String)>,
}

impl ServerFn {
    /// The path the table writes for it.
    fn table_path(&self) -> String {
        format!("{}/{}{HASH}", self.prefix, self.name)
    }
}

fn rust_files(folder: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

fn declared_server_fns() -> Vec<ServerFn> {
    let mut files = Vec::new();
    rust_files(Path::new(APP), &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        // `#[server(default)]` marks an argument, not a function.
        for at in
            after_each(&source, "#[server").filter(|at| !source[*at..].starts_with("(default)"))
        {
            let attribute = &source[at..at + source[at..].find(']').unwrap()];
            assert!(
                !attribute.contains("endpoint"),
                "{}: #[server{attribute}] names its endpoint; teach the test to read it",
                file.display()
            );
            // The macro's default prefix is `/api`.
            let prefix = attribute
                .split_once("prefix")
                .and_then(|(_, rest)| string_literals(rest).first().copied())
                .unwrap_or("/api")
                .to_string();
            let fn_at = at + source[at..].find("fn ").unwrap() + 3;
            let name: String = source[fn_at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let open = fn_at + source[fn_at..].find('(').unwrap();
            let args = inside_parentheses(&source, open)
                .split(',')
                .filter(|arg| !arg.trim().is_empty())
                .map(|arg| {
                    let (name, kind) = arg
                        .split_once(':')
                        .unwrap_or_else(|| panic!("{}: {name}: argument {arg:?}", file.display()));
                    (name.trim().to_string(), kind.trim().to_string())
                })
                .collect();
            found.push(ServerFn {
                file: file.clone(),
                name,
                prefix,
                args,
            });
        }
    }
    assert!(!found.is_empty(), "no #[server] function found in {APP}");
    found
}

/// The path a server function is registered under: its table path with the number in place
/// of `<hash>`.
fn registered_path(table_path: &str) -> Option<&'static str> {
    let stem = table_path.strip_suffix(HASH)?;
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .find(|path| {
            path.strip_prefix(stem)
                .is_some_and(|hash| hash.chars().all(|c| c.is_ascii_digit()))
        })
}

#[test]
fn every_route_page_and_server_function_has_a_row_in_the_readme_and_every_row_exists() {
    let rows = table(&std::fs::read_to_string(README).unwrap());
    let in_table: BTreeSet<(String, String)> = rows.iter().map(Row::key).collect();
    let mut problems = Vec::new();
    if in_table.len() != rows.len() {
        problems.push("a row appears twice".to_string());
    }

    let mut in_app = declared_routes(&std::fs::read_to_string(ROUTER).unwrap());
    in_app.extend(declared_pages(
        &std::fs::read_to_string(format!("{APP}/lib.rs")).unwrap(),
    ));
    for function in declared_server_fns() {
        if registered_path(&function.table_path()).is_none() {
            problems.push(format!(
                "{}: {} is not registered under {}",
                function.file.display(),
                function.name,
                function.table_path()
            ));
        }
        in_app.insert(("POST".into(), function.table_path()));
    }
    // Server functions the reader missed still answer: each registered one needs its row too.
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        if !rows
            .iter()
            .any(|row| row.method == method && registered_path(&row.path) == Some(path))
        {
            problems.push(format!(
                "the server function at {method} {path} has no row (write its path as \
                 /_fn/NAME{HASH})"
            ));
        }
    }
    for (method, path) in in_app.difference(&in_table) {
        problems.push(format!(
            "{method} {path} is in the app but has no row (parameters as {{name}})"
        ));
    }
    for row in rows.iter().filter(|row| !in_app.contains(&row.key())) {
        problems.push(format!("{} names nothing the app declares", row.describe()));
    }
    assert!(
        problems.is_empty(),
        "README.md's {SECTION:?} table and the app's routes differ:\n{}",
        problems.join("\n")
    );
}

/// What the server answered, as the checks need it.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    location: String,
    html: bool,
}

impl Answer {
    async fn of(request: RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        Answer {
            status: response.status(),
            location: header(LOCATION),
            html: header(CONTENT_TYPE).starts_with("text/html"),
        }
    }

    /// Refused for want of the credential.
    fn refused(&self) -> bool {
        matches!(
            self.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) || (self.status == StatusCode::SEE_OTHER && self.location.starts_with("/login"))
    }

    /// Served: not refused, not limited, and the route exists (a 404 from a handler, such as
    /// the API's JSON one, is an answer; the HTML of the fallback is not).
    fn served(&self) -> bool {
        !self.refused()
            && self.status != StatusCode::TOO_MANY_REQUESTS
            && self.status != StatusCode::METHOD_NOT_ALLOWED
            && !(self.status == StatusCode::NOT_FOUND && self.html)
    }
}

/// A running app with what the rows need: a machine with tokens, a queued training run.
struct Probe {
    app: TestApp,
    client: Client,
    /// mill-1's second token (its first, id 1, is the one a row may revoke).
    machine_token: String,
    /// A token of another machine.
    other_token: String,
    next_address: u32,
}

fn browser() -> reqwest::ClientBuilder {
    Client::builder()
        .redirect(redirect::Policy::none())
        .timeout(Duration::from_secs(10))
}

impl Probe {
    async fn start() -> Probe {
        let app = spawn_app().await;
        app.create_machine("mill-1", "ai4i2020").await;
        app.create_machine("mill-2", "ai4i2020").await;
        let mut tokens = Vec::new();
        for machine in ["mill-1", "mill-1", "mill-2"] {
            let token: Value = app
                .admin_post(
                    &format!("/api/v1/machines/{machine}/tokens"),
                    json!({"label": "route table"}),
                )
                .await
                .json()
                .await
                .unwrap();
            tokens.push(token["token"].as_str().unwrap().to_string());
        }
        let db = app.database().await;
        assert_eq!(QueuedRun::ai4i().queue(&db).await, 1, "run 1 to point at");
        let client = browser().build().unwrap();
        for (name, role) in BELOW_ADMIN {
            add_user(&app.address, &client, name, role, USER_PASSWORD).await;
        }
        Probe {
            client,
            machine_token: tokens[1].clone(),
            other_token: tokens[2].clone(),
            app,
            next_address: 0,
        }
    }

    /// A client from a loopback address of its own: password checks are limited per address.
    fn fresh_client(&mut self) -> Client {
        self.next_address += 1;
        let [_, _, c, d] = (self.next_address + 2).to_be_bytes();
        browser()
            .local_address(IpAddr::V4(Ipv4Addr::new(127, 55, c, d)))
            .build()
            .unwrap()
    }

    /// A new admin session: its cookie and its CSRF token.
    async fn sign_in(&self) -> (String, String) {
        admin_session(&self.app, &self.client).await
    }

    /// A new session of each user below admin, with their role for the label.
    async fn sessions_below_admin(&self) -> Vec<(&'static str, String, String)> {
        let mut sessions = Vec::new();
        for (name, role) in BELOW_ADMIN {
            let (cookie, csrf) =
                user_session_at(&self.app.address, &self.client, name, USER_PASSWORD).await;
            sessions.push((role, cookie, csrf));
        }
        sessions
    }

    /// The requests of a row: the ones that must be refused, and the ones that must be served.
    async fn requests(
        &mut self,
        row: &Row,
        server_fns: &[ServerFn],
    ) -> (Vec<(String, RequestBuilder)>, Vec<(String, RequestBuilder)>) {
        let path = self.concrete(row, server_fns);
        let url = self.app.url(&path);
        let method = row.method.clone();
        let plain = |client: &Client| client.request(method.clone(), &url);
        match row.credential {
            Credential::None => (
                vec![],
                vec![(
                    "no credential".into(),
                    self.with_args(row, server_fns, plain(&self.client)),
                )],
            ),
            Credential::AdminSession => {
                let (cookie, _) = self.sign_in().await;
                let below = self.sessions_below_admin().await;
                let call = |request: RequestBuilder| self.with_args(row, server_fns, request);
                let mut refused: Vec<(String, RequestBuilder)> = below
                    .into_iter()
                    .map(|(role, cookie, _)| {
                        (
                            format!("the {role}'s session"),
                            call(plain(&self.client).header(COOKIE, cookie)),
                        )
                    })
                    .collect();
                refused.extend([
                    ("no credential".into(), call(plain(&self.client))),
                    (
                        "the admin password as Basic".into(),
                        call(plain(&self.client).basic_auth("admin", Some(ADMIN_PASSWORD))),
                    ),
                    (
                        "a made-up session cookie".into(),
                        call(plain(&self.client).header(COOKIE, "icantkube_session=made-up")),
                    ),
                ]);
                (
                    refused,
                    vec![(
                        "the session cookie".into(),
                        call(plain(&self.client).header(COOKIE, cookie)),
                    )],
                )
            }
            Credential::IngestToken => {
                let body = |request: RequestBuilder| {
                    request.header(CONTENT_TYPE, "application/json").body("{")
                };
                (
                    vec![
                        ("no credential".into(), body(plain(&self.client))),
                        (
                            "a made-up token".into(),
                            body(plain(&self.client).bearer_auth("made-up")),
                        ),
                        (
                            "another machine's token".into(),
                            body(plain(&self.client).bearer_auth(&self.other_token)),
                        ),
                        (
                            "the admin password as Basic".into(),
                            body(plain(&self.client).basic_auth("admin", Some(ADMIN_PASSWORD))),
                        ),
                    ],
                    vec![
                        (
                            "the global token".into(),
                            body(plain(&self.client).bearer_auth(GLOBAL_TOKEN)),
                        ),
                        (
                            "the machine's token".into(),
                            body(plain(&self.client).bearer_auth(&self.machine_token)),
                        ),
                    ],
                )
            }
            Credential::AdminPassword => {
                let body = |request: RequestBuilder| {
                    if row.method == Method::GET || row.method == Method::DELETE {
                        request
                    } else {
                        request.header(CONTENT_TYPE, "application/json").body("{")
                    }
                };
                let (cookie, _) = self.sign_in().await;
                let mut refused = vec![("no credential".to_string(), body(plain(&self.client)))];
                for (label, credential) in [
                    ("a wrong password as Basic", basic("guess")),
                    ("a wrong password as Bearer", "Bearer guess".to_string()),
                    ("the ingest token", format!("Bearer {GLOBAL_TOKEN}")),
                ] {
                    let client = self.fresh_client();
                    refused.push((
                        label.into(),
                        body(plain(&client).header(AUTHORIZATION, credential)),
                    ));
                }
                refused.push((
                    "a session cookie".into(),
                    body(plain(&self.client).header(COOKIE, cookie)),
                ));
                let mut served = Vec::new();
                for (label, credential) in [
                    ("the password as Basic", basic(ADMIN_PASSWORD)),
                    ("the password as Bearer", format!("Bearer {ADMIN_PASSWORD}")),
                ] {
                    let client = self.fresh_client();
                    served.push((
                        label.into(),
                        body(plain(&client).header(AUTHORIZATION, credential)),
                    ));
                }
                (refused, served)
            }
            Credential::PasswordField => {
                let mut form = |fields: &[(&str, &str)]| {
                    let client = self.fresh_client();
                    plain(&client).form(&[fields, &[("next", "/")]].concat())
                };
                let (engineer, _) = BELOW_ADMIN[0];
                (
                    vec![
                        ("an empty password".into(), form(&[("password", "")])),
                        ("a wrong password".into(), form(&[("password", "guess")])),
                        (
                            "a wrong password, the right one as Basic".into(),
                            form(&[("password", "guess")])
                                .basic_auth("admin", Some(ADMIN_PASSWORD)),
                        ),
                        (
                            "a user's password for the bootstrap admin".into(),
                            form(&[("user", "admin"), ("password", USER_PASSWORD)]),
                        ),
                        (
                            "the admin password for a user".into(),
                            form(&[("user", engineer), ("password", ADMIN_PASSWORD)]),
                        ),
                        (
                            "an unknown user".into(),
                            form(&[("user", "nobody"), ("password", USER_PASSWORD)]),
                        ),
                    ],
                    vec![
                        (
                            "the admin password".into(),
                            form(&[("password", ADMIN_PASSWORD)]),
                        ),
                        (
                            "a user's name and password".into(),
                            form(&[("user", engineer), ("password", USER_PASSWORD)]),
                        ),
                    ],
                )
            }
            Credential::AdminForm | Credential::EngineerForm | Credential::UserForm => {
                let (cookie, csrf) = self.sign_in().await;
                let below = self.sessions_below_admin().await;
                let multipart = MULTIPART_FORMS.contains(&row.path.as_str());
                let form = |request: RequestBuilder, token: Option<&str>| {
                    if multipart {
                        let mut form = reqwest::multipart::Form::new();
                        if let Some(token) = token {
                            form = form.text("csrf", token.to_string());
                        }
                        request.multipart(form.text("name", "route table"))
                    } else {
                        let mut fields: Vec<(&str, &str)> = REQUIRED_FIELDS
                            .iter()
                            .filter(|(form, _, _)| *form == row.path)
                            .map(|(_, field, value)| (*field, *value))
                            .collect();
                        fields.extend(token.map(|token| ("csrf", token)));
                        request.form(&fields)
                    }
                };
                let (mut refused, mut served): (Vec<_>, Vec<_>) = (Vec::new(), Vec::new());
                for (role, cookie, csrf) in below {
                    let may = match row.credential {
                        Credential::UserForm => true,
                        Credential::EngineerForm => role == "engineer",
                        _ => false,
                    };
                    let request = (
                        format!("the {role}'s session and its token"),
                        form(plain(&self.client).header(COOKIE, cookie), Some(&csrf)),
                    );
                    if may {
                        served.push(request);
                    } else {
                        refused.push(request);
                    }
                }
                refused.extend([
                    ("no session".into(), form(plain(&self.client), Some(&csrf))),
                    (
                        "the session without the token".into(),
                        form(plain(&self.client).header(COOKIE, &cookie), None),
                    ),
                    (
                        "the session with a wrong token".into(),
                        form(plain(&self.client).header(COOKIE, &cookie), Some("forged")),
                    ),
                    (
                        "the admin password as Basic, with the token".into(),
                        form(
                            plain(&self.client).basic_auth("admin", Some(ADMIN_PASSWORD)),
                            Some(&csrf),
                        ),
                    ),
                ]);
                served.push((
                    "the admin's session and its token".into(),
                    form(plain(&self.client).header(COOKIE, &cookie), Some(&csrf)),
                ));
                (refused, served)
            }
        }
    }

    /// The row's path with its parameters filled in (an existing machine, run or token 1), or
    /// the server function's registered path.
    fn concrete(&self, row: &Row, server_fns: &[ServerFn]) -> String {
        if server_fns.iter().any(|f| f.table_path() == row.path) {
            return registered_path(&row.path)
                .unwrap_or_else(|| panic!("{}: not registered", row.describe()))
                .to_string();
        }
        row.path
            .split('/')
            .map(|segment| match segment {
                "{machine}" | "{name}" => "mill-1",
                "{id}" => "1",
                other if other.starts_with('{') => {
                    panic!("{}: the test has no value for {other}", row.describe())
                }
                other => other,
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// A server function's arguments, url-encoded, with values that exist; other rows as they are.
    fn with_args(
        &self,
        row: &Row,
        server_fns: &[ServerFn],
        request: RequestBuilder,
    ) -> RequestBuilder {
        let Some(function) = server_fns.iter().find(|f| f.table_path() == row.path) else {
            return request;
        };
        let args: Vec<(String, &str)> = function
            .args
            .iter()
            // Optional arguments, and those the function defaults when absent.
            .filter(|(name, kind)| {
                !kind.starts_with("Option<") && !name.starts_with("#[server(default)]")
            })
            .map(|(name, kind)| {
                let value = match kind.as_str() {
                    "String" => "mill-1",
                    "i64" => "1",
                    other => panic!(
                        "{}: {}: the test has no value for an argument of type {other}",
                        function.file.display(),
                        function.name
                    ),
                };
                (name.clone(), value)
            })
            .collect();
        request.form(&args)
    }
}

fn basic(password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{password}"))
    )
}

#[tokio::test]
async fn each_row_is_refused_without_its_credential_and_with_a_wrong_one_and_served_with_it() {
    let rows = table(&std::fs::read_to_string(README).unwrap());
    let server_fns = declared_server_fns();
    let mut probe = Probe::start().await;
    let mut wrong = Vec::new();
    let mut sent = 0;
    for row in &rows {
        let (refused, served) = probe.requests(row, &server_fns).await;
        for (label, request) in refused {
            let answer = Answer::of(request).await;
            sent += 1;
            if !answer.refused() {
                wrong.push(format!(
                    "{} with {label}: not refused, {} {}",
                    row.describe(),
                    answer.status,
                    answer.location
                ));
            }
        }
        for (label, request) in served {
            let answer = Answer::of(request).await;
            sent += 1;
            if !answer.served() {
                wrong.push(format!(
                    "{} with {label}: not served, {} {}",
                    row.describe(),
                    answer.status,
                    answer.location
                ));
            }
        }
    }
    eprintln!("route table: {} rows, {sent} requests", rows.len());
    assert!(
        wrong.is_empty(),
        "README.md's {SECTION:?} table and the app disagree:\n{}",
        wrong.join("\n")
    );
}
