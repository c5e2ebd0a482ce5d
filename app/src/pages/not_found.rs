//! The fallback route.

use leptos::prelude::*;

use crate::components::status::{ErrorPanel, PageError};

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <ErrorPanel err=PageError::not_found(
            "Page not found",
            "There is no console page at this address.",
        )/>
    }
}
