//! The wasm entry point. The console is server-rendered; only `#[island]` components hydrate.
use wasm_bindgen::prelude::wasm_bindgen;

// Link the app crate so its island exports end up in the bundle.
#[allow(unused_imports)]
use app as _;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
