//! The browser end of the live feed: one `EventSource` on `/api/v1/events` per page, shared by
//! every island on it (browsers allow few connections per origin). Islands register a handler
//! per event name (`snapshot`, `stats`, `error`) from an `Effect`, i.e. only after hydration; on
//! the server `on` does nothing. `live_switch` is the page-wide pause switch.

/// Where the feed is served (docs/contracts.md, "Live events").
pub const EVENTS_URL: &str = "/api/v1/events";

/// Calls `handler` with the event's `data` (empty for `open` / `error`) on each `kind` event.
#[cfg(feature = "hydrate")]
pub fn on(kind: &'static str, handler: impl Fn(String) + 'static) {
    use std::cell::RefCell;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    thread_local! {
        static SOURCE: RefCell<Option<web_sys::EventSource>> = const { RefCell::new(None) };
    }
    let source = SOURCE.with(|s| {
        let mut s = s.borrow_mut();
        if s.is_none() {
            *s = web_sys::EventSource::new(&crate::url::href(EVENTS_URL)).ok();
        }
        s.clone()
    });
    let Some(source) = source else {
        return;
    };
    let cb = Closure::<dyn Fn(web_sys::Event)>::new(move |ev: web_sys::Event| {
        let data = ev
            .dyn_ref::<web_sys::MessageEvent>()
            .and_then(|m| m.data().as_string())
            .unwrap_or_default();
        handler(data);
    });
    let _ = source.add_event_listener_with_callback(kind, cb.as_ref().unchecked_ref());
    // The page lives as long as its islands: the listener is never removed.
    cb.forget();
}

#[cfg(not(feature = "hydrate"))]
pub fn on(_kind: &'static str, _handler: impl Fn(String) + 'static) {}

/// The page's pause switch, shared by its islands: the strip's "Pause live updates" button
/// sets it, and every live part of the page (strip, rows, job facts) stops following the feed
/// while it is off. In the browser there is one per page; on the server each call is a fresh,
/// always-on switch (nothing is paused in server-rendered HTML).
#[cfg(feature = "hydrate")]
pub fn live_switch() -> leptos::prelude::ArcRwSignal<bool> {
    thread_local! {
        static LIVE: leptos::prelude::ArcRwSignal<bool> = leptos::prelude::ArcRwSignal::new(true);
    }
    LIVE.with(Clone::clone)
}

#[cfg(not(feature = "hydrate"))]
pub fn live_switch() -> leptos::prelude::ArcRwSignal<bool> {
    leptos::prelude::ArcRwSignal::new(true)
}
