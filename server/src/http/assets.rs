//! The built site's files: the islands' script and WebAssembly, the stylesheet, the icons.
//!
//! cargo-leptos names the script, the WebAssembly and the stylesheet after their content
//! (`pkg/icantkube.<hash>.wasm`) and lists the hashes in a file, which `scripts/build-site.sh`
//! writes into the site root, beside brotli and gzip copies of every file. A site and its names
//! so travel together: into the image, to whichever binary serves that root. A file named after
//! its content never changes, so browsers keep it a year without asking; every other file is
//! revalidated on each use (a 304 while it is unchanged). The copies are sent as they are to
//! clients that accept them, so the compression layer leaves those answers alone.

use std::collections::HashSet;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, VARY};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use leptos::config::LeptosOptions;
use tower::{Service, ServiceBuilder};
use tower_http::services::ServeDir;

/// The hash file's name in the site root.
pub const HASH_FILE: &str = "hash.txt";

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// Leptos' site settings, set to use the site root's hash file when there is one and nothing
/// else was configured: Leptos looks for the file beside the running binary unless it is given
/// an absolute path (which `Path::join` keeps as it is).
pub fn with_site_hashes(mut options: LeptosOptions) -> LeptosOptions {
    if !options.hash_files {
        let site_file = Path::new(&*options.site_root).join(HASH_FILE);
        if let Ok(site_file) = site_file.canonicalize() {
            options.hash_files = true;
            options.hash_file = site_file.to_string_lossy().into();
        }
    }
    options
}

/// What the pages link, from the hash file Leptos reads (the same lookup as its own).
#[derive(Clone, Debug, Default)]
struct Names {
    /// Request paths of the files named after their content.
    hashed: HashSet<String>,
    /// The stylesheet's name without its hash, and its hashed path: forms' refusal pages are
    /// rendered outside Leptos and link the unhashed name.
    stylesheet: Option<(String, String)>,
}

impl Names {
    fn read(options: &LeptosOptions) -> Names {
        if !options.hash_files {
            return Names::default();
        }
        let file = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
            .unwrap_or_default()
            .join(&*options.hash_file);
        let Ok(hashes) = std::fs::read_to_string(&file) else {
            tracing::error!(file = %file.display(), "the site's hash file cannot be read");
            return Names::default();
        };
        Names::parse(options, &hashes)
    }

    /// `js: HASH` lines, one per hashed file.
    fn parse(options: &LeptosOptions, hashes: &str) -> Names {
        let base = format!(
            "{}{}",
            options.site_pkg_dir_route_base(),
            options.output_name
        );
        let mut names = Names::default();
        for (extension, hash) in hashes
            .lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(extension, hash)| (extension.trim(), hash.trim()))
            .filter(|(extension, _)| ["js", "wasm", "css"].contains(extension))
        {
            let path = format!("{base}.{hash}.{extension}");
            if extension == "css" {
                names.stylesheet = Some((format!("{base}.css"), path.clone()));
            }
            names.hashed.insert(path);
        }
        names
    }
}

/// The site's files under `options.site_root`, each in the encoding the client prefers of those
/// on disk, with its caching policy; what is not a file goes to `not_found` (also any method
/// but GET and HEAD).
pub fn files<F>(
    options: &LeptosOptions,
    not_found: F,
) -> impl Service<Request, Response = Response, Error = Infallible, Future = impl Send + 'static>
       + Clone
       + Send
       + Sync
       + 'static
where
    F: Service<Request, Response = Response, Error = Infallible> + Clone + Send + Sync + 'static,
    F::Future: Send + 'static,
{
    let files = ServeDir::new(PathBuf::from(&*options.site_root))
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
        .call_fallback_on_method_not_allowed(true)
        .fallback(not_found);
    ServiceBuilder::new()
        .layer(middleware::from_fn_with_state(
            Arc::new(Names::read(options)),
            caching,
        ))
        .service(files)
}

/// Marks an answer that is one of the site's own files (script, WebAssembly, stylesheet,
/// icons), which a document's policy headers do nothing for.
#[derive(Debug, Clone, Copy)]
pub struct SiteFile;

/// Middleware: the caching policy and `Vary` of a file's answer (not of the not-found page).
async fn caching(State(names): State<Arc<Names>>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let hashed = names.hashed.contains(path);
    if let Some((_, stylesheet)) = names.stylesheet.as_ref().filter(|(bare, _)| bare == path) {
        *request.uri_mut() = Uri::try_from(stylesheet).expect("a hashed path is a URI");
    }
    let mut response = next.run(request).await;
    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        response.extensions_mut().insert(SiteFile);
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, if hashed { IMMUTABLE } else { REVALIDATE });
        // Which file was sent depends on Accept-Encoding.
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_file_names_the_script_webassembly_and_stylesheet_paths() {
        let options = LeptosOptions::builder().output_name("icantkube").build();
        let names = Names::parse(
            &options,
            "js: AAAAAAAAAAAAAAAAAAAAAA\nwasm: BBBBBBBBBBBBBBBBBBBBBB\ncss: C-_CCCCCCCCCCCCCCCCCCC\nmanifest: M\n",
        );
        let mut hashed: Vec<&str> = names.hashed.iter().map(String::as_str).collect();
        hashed.sort();
        assert_eq!(
            hashed,
            [
                "/pkg/icantkube.AAAAAAAAAAAAAAAAAAAAAA.js",
                "/pkg/icantkube.BBBBBBBBBBBBBBBBBBBBBB.wasm",
                "/pkg/icantkube.C-_CCCCCCCCCCCCCCCCCCC.css",
            ]
        );
        assert_eq!(
            names.stylesheet,
            Some((
                "/pkg/icantkube.css".to_string(),
                "/pkg/icantkube.C-_CCCCCCCCCCCCCCCCCCC.css".to_string()
            ))
        );
    }
}
