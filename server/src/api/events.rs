//! `GET /api/v1/events`: the live feed as server-sent events (docs/contracts.md, "Live
//! events"). Each connection is a receiver of the console's one feed (`app::events`): the
//! ticker reads one snapshot per tick for everybody, this route only frames what it publishes.
//!
//! - `event: snapshot` / `id: <seq>` / `data: {"snapshot": {...} | null, "error": null | "..."}`
//!   when the snapshot changed (and once, the current one, on connect);
//! - `event: stats` / `data: {"seq": N}` every 10 s: charts may have new points;
//! - a `: keep-alive` comment every 15 s; the stream ends when the console shuts down.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use app::events::{Feed, Frame};
use app::state::Console;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::Stream;
use tokio::sync::watch;

use super::ctx::Ctx;

pub fn routes() -> Router<Arc<Console>> {
    Router::new().route("/events", get(events))
}

/// Browsers reconnect after this when the stream drops (the `retry:` field).
const RETRY: Duration = Duration::from_secs(2);
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The live feed: `snapshot` events (an `Overview` snapshot as JSON) when it changes and
/// `stats` events when charts have new points. Never ends while the console runs.
/// `X-Accel-Buffering: no` tells nginx (whose `proxy_buffering` is on by default) to pass each
/// event on at once instead of holding it until a buffer fills.
#[utoipa::path(get, path = "/api/v1/events", tag = "reads",
    responses((status = 200, description = "Server-sent events", content_type = "text/event-stream", body = String)))]
pub(super) async fn events(axum::extract::State(c): Ctx) -> impl axum::response::IntoResponse {
    let rx = app::events::subscribe(&c);
    let sse = Sse::new(stream(rx)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE));
    ([("x-accel-buffering", "no")], sse)
}

struct Cursor {
    rx: watch::Receiver<Feed>,
    first: bool,
    seq: u64,
    stats_seq: u64,
    pending: VecDeque<Event>,
}

/// The frames a subscriber has not seen yet, as events (snapshot first, then stats).
fn frame_events(cur: &mut Cursor, f: &Frame) {
    if f.seq != cur.seq {
        let mut ev = Event::default()
            .event("snapshot")
            .id(f.seq.to_string())
            .data(&*f.json);
        if cur.first {
            ev = ev.retry(RETRY);
        }
        cur.pending.push_back(ev);
    }
    if f.stats_seq != cur.stats_seq && !cur.first {
        cur.pending.push_back(
            Event::default()
                .event("stats")
                .data(format!("{{\"seq\":{}}}", f.stats_seq)),
        );
    }
    cur.seq = f.seq;
    cur.stats_seq = f.stats_seq;
    cur.first = false;
}

fn stream(rx: watch::Receiver<Feed>) -> impl Stream<Item = Result<Event, Infallible>> {
    let cur = Cursor {
        rx,
        first: true,
        seq: 0,
        stats_seq: 0,
        pending: VecDeque::new(),
    };
    futures::stream::unfold(cur, |mut cur| async move {
        loop {
            if let Some(ev) = cur.pending.pop_front() {
                return Some((Ok(ev), cur));
            }
            let feed = if cur.first {
                cur.rx.borrow_and_update().clone()
            } else {
                if cur.rx.changed().await.is_err() {
                    return None;
                }
                cur.rx.borrow_and_update().clone()
            };
            match feed {
                Feed::Closed => return None,
                Feed::Waiting => cur.first = false,
                Feed::Frame(f) => frame_events(&mut cur, &f),
            }
        }
    })
}
