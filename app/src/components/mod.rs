//! Shared widgets of the server-rendered pages. `table`, `pager` and `forms` are also built
//! for the browser: the live rows (`crate::rows`) render them in islands.
//!
//! - `layout`  — page frame: header, nav, read-only badge.
//! - `flash`   — signed flash messages (`?ok=` / `?err=` shown only when the server signed them).
//! - `status`  — `PageError` and its panel (404 / 400 / Redis unreachable) with the HTTP status.
//! - `table`   — the job table with selection checkboxes and per-row actions.
//! - `pager`   — `?page=&size=` parsing and the pager links.
//! - `forms`   — hidden return-to fields, confirmation panels, action buttons.
//! - `across`  — the cross-queue registry pages' shared read, heading and export links.
//! - `timeline` — the job page's timeline.
//! - `celery_rows` — Celery task rows for the failure-group and search pages.

#[cfg(feature = "ssr")]
pub mod across;
#[cfg(feature = "ssr")]
pub mod celery_rows;
#[cfg(feature = "ssr")]
pub mod flash;
pub mod forms;
#[cfg(feature = "ssr")]
pub mod layout;
pub mod pager;
#[cfg(feature = "ssr")]
pub mod status;
pub mod table;
#[cfg(feature = "ssr")]
pub mod timeline;
