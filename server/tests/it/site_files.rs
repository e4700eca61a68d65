//! The site's files as the real binary serves them from a site root laid out as
//! `scripts/build-site.sh` leaves it: content-hashed names listed in `hash.txt`, brotli copies
//! beside the files. Pages link the hashed names; those are cached for good, sent precompressed
//! as they are on disk, and answer conditional requests with 304.

use std::path::Path;

use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, IF_MODIFIED_SINCE, LAST_MODIFIED, VARY,
};
use reqwest::StatusCode;

use crate::support::binary::ServerProcess;
use crate::support::database::fresh_url;

const JS: &str = "/pkg/icantkube.Js0000000000000000000-_.js";
const WASM: &str = "/pkg/icantkube.Wasm00000000000000000-_.wasm";
const CSS: &str = "/pkg/icantkube.Css000000000000000000-_.css";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A site root with the three hashed files (each with a brotli copy), an icon and the hash file.
fn lay_out_site(root: &Path) {
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    let files: [(&str, Vec<u8>); 3] = [
        (
            JS,
            "export function hydrate() {}\n".repeat(400).into_bytes(),
        ),
        (WASM, (0..40_000u32).map(|i| (i % 7) as u8).collect()),
        (CSS, ".page { margin: 0 auto; }\n".repeat(300).into_bytes()),
    ];
    for (path, bytes) in files {
        let file = root.join(path.trim_start_matches('/'));
        std::fs::write(&file, &bytes).unwrap();
        std::fs::write(format!("{}.br", file.display()), brotli(&bytes)).unwrap();
    }
    std::fs::write(
        root.join("favicon.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    )
    .unwrap();
    let hash = |path: &str| path.split('.').nth(1).unwrap().to_string();
    std::fs::write(
        root.join("hash.txt"),
        format!(
            "js: {}\nwasm: {}\ncss: {}\n",
            hash(JS),
            hash(WASM),
            hash(CSS)
        ),
    )
    .unwrap();
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut compressed = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut compressed, &params).unwrap();
    compressed
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    brotli::BrotliDecompress(&mut &bytes[..], &mut plain).unwrap();
    plain
}

#[tokio::test]
async fn pages_link_hashed_files_which_are_cached_for_good_sent_precompressed_and_revalidated() {
    let folder = tempfile::tempdir().unwrap();
    let site = folder.path().join("site");
    lay_out_site(&site);
    let database = fresh_url(folder.path()).await;
    let server =
        ServerProcess::start_with(&database, &[("LEPTOS_SITE_ROOT", site.to_str().unwrap())]).await;
    let client = reqwest::Client::new();
    let get = |path: &str, encoding: Option<&str>| {
        let mut request = client.get(format!("{}{path}", server.base));
        if let Some(encoding) = encoding {
            request = request.header(ACCEPT_ENCODING, encoding);
        }
        request
    };

    let page = get("/", None).send().await.unwrap().text().await.unwrap();
    for path in [JS, WASM, CSS] {
        assert!(page.contains(&format!("\"{path}\"")), "{path} in {page}");
    }
    assert!(
        !page.contains("/pkg/icantkube.js") && !page.contains("/pkg/icantkube.wasm"),
        "no unhashed name in {page}"
    );

    for path in [JS, WASM, CSS] {
        let on_disk = std::fs::read(site.join(path.trim_start_matches('/'))).unwrap();
        let brotli_on_disk =
            std::fs::read(site.join(format!("{}.br", path.trim_start_matches('/')))).unwrap();

        let response = get(path, Some("br")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers[CACHE_CONTROL], IMMUTABLE, "{path}");
        assert_eq!(headers[CONTENT_ENCODING], "br", "{path}");
        // No sniffing; a document's policy headers would do nothing for a file.
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        for document_only in [
            "content-security-policy",
            "x-frame-options",
            "referrer-policy",
        ] {
            assert!(
                !headers.contains_key(document_only),
                "{path}: {document_only}"
            );
        }
        assert!(
            headers[VARY]
                .to_str()
                .unwrap()
                .to_ascii_lowercase()
                .contains("accept-encoding"),
            "{path}: {headers:?}"
        );
        let body = response.bytes().await.unwrap();
        // The copy on disk, not one compressed again on the way out.
        assert!(
            body == brotli_on_disk,
            "{path}: not the brotli copy on disk"
        );
        assert!(
            unbrotli(&body) == on_disk,
            "{path}: not the file once decompressed"
        );

        let plain = get(path, None).send().await.unwrap();
        assert!(plain.headers().get(CONTENT_ENCODING).is_none(), "{path}");
        assert!(
            plain.bytes().await.unwrap() == on_disk,
            "{path}: not the file"
        );

        let since = headers[LAST_MODIFIED].clone();
        let again = get(path, Some("br"))
            .header(IF_MODIFIED_SINCE, since)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()[CACHE_CONTROL], IMMUTABLE, "{path}");
        assert!(again.bytes().await.unwrap().is_empty());
    }

    // Files without a hash in their name are revalidated on each use.
    let icon = get("/favicon.svg", None).send().await.unwrap();
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()[CACHE_CONTROL], "no-cache");
    let since = icon.headers()[LAST_MODIFIED].clone();
    let again = get("/favicon.svg", None)
        .header(IF_MODIFIED_SINCE, since)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    // Pages rendered outside Leptos link the stylesheet's plain name: it is the hashed one.
    let stylesheet = get("/pkg/icantkube.css", None).send().await.unwrap();
    assert_eq!(stylesheet.status(), StatusCode::OK);
    assert_eq!(stylesheet.headers()[CACHE_CONTROL], "no-cache");
    let css = std::fs::read(site.join(CSS.trim_start_matches('/'))).unwrap();
    assert!(
        stylesheet.bytes().await.unwrap() == css,
        "not the hashed stylesheet"
    );

    let missing = get("/pkg/icantkube.Missing0000000000000-_.js", None)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_ne!(
        missing
            .headers()
            .get(CACHE_CONTROL)
            .map(|value| value.to_str().unwrap()),
        Some(IMMUTABLE)
    );
    server.kill();
}
