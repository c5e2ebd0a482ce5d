//! The wasm entry point. The console is server-rendered; only `#[island]` components hydrate.
use wasm_bindgen::prelude::wasm_bindgen;

// Using the app crate (below) also links it, so its island exports end up in the bundle.

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Behind `--url-prefix`, the islands' server-function calls go under the page's base.
    app::url::install_server_url();
    leptos::mount::hydrate_islands();
}
