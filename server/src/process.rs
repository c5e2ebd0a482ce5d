//! Process-level pieces every subcommand shares: the default Redis URL, usage errors (exit code
//! 2) and the termination signal. A leaf: it imports nothing of the crate.

pub const DEFAULT_REDIS: &str = "redis://127.0.0.1:6379";

/// A usage problem found after parsing (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Exit code 2: a [`UsageError`], or input the engine refused as invalid (a bad id, name,
/// slot count or duration), whichever way in it came.
pub fn is_usage_error(e: &anyhow::Error) -> bool {
    e.downcast_ref::<UsageError>().is_some()
        || e.downcast_ref::<engine::Error>()
            .is_some_and(|e| e.kind() == engine::ErrorKind::Invalid)
}

/// Completes on the first SIGINT or SIGTERM.
pub async fn terminate_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
