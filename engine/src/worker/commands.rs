//! The pool's pub/sub listener: one dedicated connection subscribed to `rq:pubsub:<slot>` for
//! every slot, obeying RQ's commands plus Taskmill's `scale`. Reconnects with backoff and
//! resubscribes to the current slot set; commands sent while disconnected are lost (as in RQ).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::pool::Shared;
use super::table::AbortKind;
use crate::command::Command;
use crate::keys;

/// Runs until `cancel`; `ready` is cancelled once the first subscription is in place.
pub(crate) async fn listen(
    shared: Arc<Shared>,
    cancel: CancellationToken,
    ready: CancellationToken,
) {
    let mut delay = Duration::from_millis(100);
    loop {
        let (mut sink, mut stream) = match shared.store.client().get_async_pubsub().await {
            Ok(ps) => ps.split(),
            Err(e) => {
                warn!(error = %e, "pub/sub connect failed; retrying");
                if sleep_or_cancel(&cancel, delay).await {
                    return;
                }
                delay = (delay * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        let chans: Vec<String> = shared
            .slot_names()
            .iter()
            .map(|n| keys::pubsub(n))
            .collect();
        if let Err(e) = sink.subscribe(chans).await {
            warn!(error = %e, "pub/sub subscribe failed; retrying");
            if sleep_or_cancel(&cancel, delay).await {
                return;
            }
            continue;
        }
        *shared.sink.lock().await = Some(sink);
        // Slots born between the snapshot above and storing the sink subscribe themselves now.
        let now: Vec<String> = shared.slot_names();
        shared.subscribe(&now).await;
        ready.cancel();
        delay = Duration::from_millis(100);
        loop {
            let msg = tokio::select! {
                _ = cancel.cancelled() => {
                    *shared.sink.lock().await = None;
                    return;
                }
                m = stream.next() => m,
            };
            let Some(msg) = msg else {
                warn!("pub/sub connection lost; reconnecting");
                *shared.sink.lock().await = None;
                break;
            };
            let slot = msg
                .get_channel_name()
                .strip_prefix(keys::pubsub("").as_str())
                .unwrap_or("")
                .to_string();
            if let Some(cmd) = Command::parse(msg.get_payload_bytes()) {
                handle(&shared, &slot, cmd).await;
            }
        }
    }
}

async fn handle(shared: &Arc<Shared>, slot: &str, cmd: Command) {
    info!(slot, ?cmd, "command received");
    match cmd {
        Command::Shutdown => shared.stop.cancel(),
        Command::KillHorse => {
            shared.abort_slot(slot, AbortKind::Kill, None);
        }
        Command::StopJob { job_id } => {
            shared.abort_slot(slot, AbortKind::Stop, Some(&job_id));
        }
        Command::Scale { slots } => {
            // Scaling awaits Redis writes; keep the listener reading meanwhile.
            let s = shared.clone();
            tokio::spawn(async move { s.scale(slots.min(usize::MAX as u64) as usize).await });
        }
    }
}

/// Sleeps; true if cancelled first.
async fn sleep_or_cancel(cancel: &CancellationToken, d: Duration) -> bool {
    tokio::select! {
        _ = cancel.cancelled() => true,
        _ = tokio::time::sleep(d) => false,
    }
}
