//! One file per route; all server-only (`ssr`). Each page reads what it needs from the engine
//! through `Console`, and renders a `PageError` panel instead of failing the request.
//!
//! - `overview`  — `/`: totals, queues, workers, Redis, suspend / resume.
//! - `queue`     — `/queues/:name`: one tab per list, paginated, row and queue actions.
//! - `job`       — `/jobs/:id`: everything about one job, actions valid for its state.
//! - `workers`   — `/workers`: workers grouped by Taskmill pool, commands and scaling.
//! - `failed`    — `/failed`: failed jobs across queues, requeue per queue or all.
//! - `failed_groups` — `/failed/groups`: failures grouped by fingerprint, largest first.
//! - `failed_group`  — `/failed/groups/:fingerprint`: one group's jobs, requeue / delete all.
//! - `audit`     — `/audit`: the operator action log.
//! - `stats`     — `/stats`: the Metrics page, per-function durations and failures.
//! - `search`    — `/search`: search with a cursor, bulk actions on the matches, id → job.
//! - `scheduled` — `/scheduled`: scheduled jobs of every queue, soonest first, run now.
//! - `deferred`  — `/deferred`: deferred jobs of every queue and what each waits on.
//! - `canceled`  — `/canceled`: canceled jobs of every queue.
//! - `limits`    — `/limits`: concurrency / rate limits and their use now.
//! - `chord`     — `/groups/:name`: one chord (RQ group + callback), progress and members.
//! - `cron`      — `/cron`: cron schedulers (rq cron and Taskmill) and their jobs, run now.
//! - `instances` — `/instances`: every Redis instance of the console, side by side.
//! - `not_found` — anything else.
//! - `celery_queues` — `/celery`: Celery queues (also unconsumed), reserved / ETA; helpers.
//! - `celery_queue`  — `/celery/queues/:name`: peek at messages, reserved ones.
//! - `celery_workers` — `/celery/workers`: workers from events, pool grow / shrink, shutdown.
//! - `celery_worker`  — `/celery/workers/:hostname`: inspect replies or "no reply in N ms".
//! - `celery_tasks`  — `/celery/tasks`: recorded tasks, filtered by state / name.
//! - `celery_task`   — `/celery/tasks/:id`: one task, its workflow, revoke / retry.

pub mod audit;
pub mod canceled;
pub mod celery_queue;
pub mod celery_queues;
pub mod celery_task;
pub mod celery_tasks;
pub mod celery_worker;
pub mod celery_workers;
pub mod chord;
pub mod cron;
pub mod deferred;
pub mod failed;
pub mod failed_group;
pub mod failed_groups;
pub mod instances;
pub mod job;
pub mod limits;
pub mod not_found;
pub mod overview;
pub mod queue;
pub mod scheduled;
pub mod search;
pub mod stats;
pub mod workers;
