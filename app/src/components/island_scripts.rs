//! Starts the islands once the page is idle, and only then fetches their script and
//! WebAssembly; once the page has loaded, registers the service worker that shows an offline
//! page when the network is gone (`public/sw.js`). Leptos' `<HydrationScripts islands>` also
//! waits for idle to hydrate, but it first preloads both files at high priority: the
//! WebAssembly, most of a page's bytes, then loads before the page's largest paint on a slow
//! phone (Lighthouse put the demo's LCP at 1.8–2.0 s with it, and the engine page's
//! performance at 99).

use std::sync::OnceLock;

use leptos::config::LeptosOptions;
use leptos::nonce::use_nonce;
use leptos::prelude::*;

/// The page's one inline script (it carries the page's nonce, which the page's policy names).
#[component]
pub fn IslandScripts(options: LeptosOptions) -> impl IntoView {
    // The names are fixed for the process's life: the hash file is read once, not per page.
    static START_CALL: OnceLock<String> = OnceLock::new();
    let start = START_CALL.get_or_init(|| {
        let (script, wasm) = bundle_names(&options);
        let pkg = &options.site_pkg_dir;
        format!("({START})(\"/{pkg}/{script}.js\", \"/{pkg}/{wasm}.wasm\");")
    });
    view! { <script type="module" nonce=use_nonce()>{start.as_str()}</script> }
}

/// Imports the islands' module, instantiates its WebAssembly, then hydrates each island by
/// the function the module exports under the island's name. The service worker waits for the
/// load event, so its script never competes with the page's own.
const START: &str = r#"(script, wasm) => {
  const start = () => import(script).then(async (islands) => {
    await islands.default({ module_or_path: wasm });
    islands.hydrate();
    for (const island of document.querySelectorAll("leptos-island")) {
      const hydrate = islands[island.dataset.component];
      if (hydrate) await hydrate(island);
    }
  });
  if ("requestIdleCallback" in window) requestIdleCallback(start);
  else addEventListener("load", start);
  addEventListener("load", () => navigator.serviceWorker?.register("/sw.js"));
}"#;

/// The script's and WebAssembly's file names without extension: the output name, with the
/// content hashes cargo-leptos wrote to the hash file when the site's names are hashed (the
/// lookup Leptos' own hydration scripts make).
fn bundle_names(options: &LeptosOptions) -> (String, String) {
    let mut script = options.output_name.to_string();
    let mut wasm = script.clone();
    if !options.hash_files {
        return (script, wasm + "_bg");
    }
    let beside_binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())));
    let hashes = beside_binary
        .and_then(|file| std::fs::read_to_string(file).ok())
        .unwrap_or_default();
    for (file, hash) in hashes
        .lines()
        .filter_map(|line| line.trim().split_once(':'))
    {
        match file {
            "js" => script.push_str(&format!(".{}", hash.trim())),
            "wasm" => wasm.push_str(&format!(".{}", hash.trim())),
            _ => {}
        }
    }
    (script, wasm)
}
