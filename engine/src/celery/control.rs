//! The pidbox (Celery's remote control) exactly as kombu does it on Redis: bind a private reply
//! queue (without the binding, workers drop the reply), PUBLISH the request on
//! `/<db>.celery.pidbox`, BRPOP the reply lists until the deadline or until every expected node
//! answered, then remove the binding and the lists. A dedicated connection carries the BRPOP so
//! pages never wait behind it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use super::types::InspectReply;
use super::{envelope, Celery};
use crate::keys::celery as k;
use crate::Result;

/// Who a request is for: every worker, or these node names.
pub type Destination<'a> = Option<&'a [String]>;

/// Builds the kombu envelope of a control request (a cast when `reply_to` is `None`).
pub fn request_envelope(
    method: &str,
    arguments: &Value,
    destination: Destination<'_>,
    reply_to: Option<(&str, &str)>,
    timeout: Duration,
) -> String {
    let mut body = json!({
        "method": method, "arguments": arguments,
        "destination": destination, "pattern": null, "matcher": null,
    });
    if let Some((oid, ticket)) = reply_to {
        body["ticket"] = json!(ticket);
        body["reply_to"] = json!({"exchange": k::REPLY_EXCHANGE, "routing_key": oid});
    }
    let body = base64::engine::general_purpose::STANDARD.encode(body.to_string());
    json!({
        "body": body,
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {"clock": 1, "expires": crate::time::now() + timeout.as_secs_f64()},
        "properties": {
            "delivery_mode": 2,
            "delivery_info": {"exchange": k::PIDBOX_EXCHANGE, "routing_key": ""},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": crate::enqueue::uuid4(),
        }
    })
    .to_string()
}

/// Sends a command nobody answers (`shutdown`, `heartbeat`); returns PUBLISH's receiver count.
pub async fn cast(
    c: &Celery,
    method: &str,
    arguments: Value,
    destination: Destination<'_>,
) -> Result<u64> {
    let env = request_envelope(method, &arguments, destination, None, c.timeout);
    let n: u64 = redis::cmd("PUBLISH")
        .arg(k::pidbox_channel(c.prefix(), c.db))
        .arg(env)
        .query_async(&mut c.broker.conn())
        .await?;
    Ok(n)
}

/// Sends a command and collects `{node: reply}` until `timeout`, or until `limit` nodes
/// answered (`None`: wait the whole deadline, as Celery's own `inspect` does).
pub async fn call(
    c: &Celery,
    method: &str,
    arguments: Value,
    destination: Destination<'_>,
    limit: Option<usize>,
    timeout: Duration,
) -> Result<InspectReply> {
    let p = c.prefix().to_string();
    let sep = c.transport.sep.clone();
    let oid = crate::enqueue::uuid4();
    let ticket = crate::enqueue::uuid4();
    let member = k::binding_member(&oid, &k::reply_queue(&oid), &sep);
    let binding = k::binding(&p, k::REPLY_EXCHANGE);
    let lists: Vec<String> = c
        .transport
        .lists(&k::reply_queue(&oid))
        .into_iter()
        .map(|(_, key)| key)
        .collect();
    let mut conn = c.broker.dedicated().await?;
    let deadline_ms = (crate::time::now() * 1000.0) as i64 + 3_600_000;
    let () = redis::pipe()
        .cmd("SADD")
        .arg(&binding)
        .arg(&member)
        .ignore()
        .cmd("ZADD")
        .arg(k::binding_deadlines(&p))
        .arg("GT")
        .arg(deadline_ms)
        .arg(k::REPLY_EXCHANGE)
        .ignore()
        .query_async(&mut conn)
        .await?;
    let result = collect(
        c,
        &mut conn,
        method,
        &arguments,
        destination,
        limit,
        timeout,
        (&oid, &ticket),
        &lists,
    )
    .await;
    // Clean up whatever happened: the binding and any late reply.
    let cleanup: redis::RedisResult<()> = redis::pipe()
        .cmd("SREM")
        .arg(&binding)
        .arg(&member)
        .ignore()
        .cmd("SREM")
        .arg(k::binding_permanent(&p, k::REPLY_EXCHANGE))
        .arg(&member)
        .ignore()
        .cmd("DEL")
        .arg(&lists)
        .ignore()
        .query_async(&mut conn)
        .await;
    if let Err(e) = cleanup {
        tracing::debug!(error = %e, "celery: reply binding cleanup failed");
    }
    let replies = result?;
    let timeout_ms = timeout.as_millis() as u64;
    Ok(InspectReply {
        method: method.to_string(),
        no_reply: replies
            .is_empty()
            .then(|| format!("no reply in {timeout_ms} ms")),
        replies,
        timeout_ms,
    })
}

#[allow(clippy::too_many_arguments)]
async fn collect(
    c: &Celery,
    conn: &mut redis::aio::MultiplexedConnection,
    method: &str,
    arguments: &Value,
    destination: Destination<'_>,
    limit: Option<usize>,
    timeout: Duration,
    (oid, ticket): (&str, &str),
    lists: &[String],
) -> Result<BTreeMap<String, Value>> {
    let env = request_envelope(method, arguments, destination, Some((oid, ticket)), timeout);
    let () = redis::cmd("PUBLISH")
        .arg(k::pidbox_channel(c.prefix(), c.db))
        .arg(env)
        .query_async::<u64>(conn)
        .await
        .map(|_| ())?;
    let start = Instant::now();
    let mut replies = BTreeMap::new();
    loop {
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() || limit.is_some_and(|l| replies.len() >= l) {
            break;
        }
        // BRPOP's timeout is in seconds (a float since Redis 6); at least 10 ms.
        let wait = left.as_secs_f64().clamp(0.01, 1.0);
        let popped: Option<(String, Vec<u8>)> = redis::cmd("BRPOP")
            .arg(lists)
            .arg(format!("{wait:.3}"))
            .query_async(conn)
            .await?;
        let Some((_, raw)) = popped else { continue };
        let Ok(env) = envelope::parse(&raw) else {
            continue;
        };
        if env.json.pointer("/headers/ticket").and_then(Value::as_str) != Some(ticket) {
            continue;
        }
        if let Ok(Value::Object(map)) = env.body {
            replies.extend(map);
        }
    }
    Ok(replies)
}

/// The inspect calls of a worker page, all at once (each with the same deadline), in order.
pub async fn inspect_node(
    c: &Celery,
    node: &str,
    methods: &[&str],
) -> Vec<(String, Result<InspectReply>)> {
    let dest = [node.to_string()];
    let calls = methods.iter().map(|m| {
        let args = match *m {
            "active" => json!({"safe": true}),
            "registered" => json!({"taskinfoitems": []}),
            _ => json!({}),
        };
        let dest = &dest;
        async move {
            (
                m.to_string(),
                call(c, m, args, Some(dest), Some(1), c.timeout).await,
            )
        }
    });
    futures::future::join_all(calls).await
}
