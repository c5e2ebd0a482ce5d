//! Suspend / resume all workers (`rq:suspended`, like `rq suspend` / `rq resume`).

use crate::{keys, Error, Result, Store};

/// `SET rq:suspended 1`, with `EX duration` when given (like `rq suspend --duration`).
pub async fn suspend(store: &Store, duration_secs: Option<u64>) -> Result<()> {
    let mut cmd = redis::cmd("SET");
    cmd.arg(keys::SUSPENDED).arg(1);
    match duration_secs {
        Some(0) => {
            return Err(Error::Invalid(
                "suspend duration must be at least 1 second".into(),
            ))
        }
        Some(secs) => {
            cmd.arg("EX").arg(secs);
        }
        None => {}
    }
    let () = cmd.query_async(&mut store.conn()).await?;
    Ok(())
}

pub async fn resume(store: &Store) -> Result<()> {
    let _: u64 = redis::cmd("DEL")
        .arg(keys::SUSPENDED)
        .query_async(&mut store.conn())
        .await?;
    Ok(())
}
