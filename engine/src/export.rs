//! Export of any job list (a queue's list, a registry across queues, a failure group, and any
//! later source such as search results) as CSV, a JSON array or NDJSON, produced batch by
//! batch so memory stays bounded by one batch however many rows there are.
//!
//! A [`Source`] hands out batches of `JobSummary` until it is done; [`Paged`] adapts any
//! offset-paged read (every `Backend` list) into one, and a cursor-paged read (search) can
//! implement `Source` directly. [`Encoder`] turns batches into text chunks: the web layer
//! streams them as a response body, nothing here knows about HTTP.
//!
//! Rows move while an export runs (jobs are requeued, expire, fail): offset paging may skip or
//! repeat a row that moved between two batches, as paging a live list in the console does. The
//! export is a sequence of consistent pages, not a snapshot.
//!
//! CSV cells are quoted when they hold `,`, `"`, CR or LF (quotes doubled, RFC 4180), and text
//! starting with `=`, `+`, `-`, `@`, TAB or CR gets a leading `'` so a spreadsheet never runs job
//! data as a formula (numbers are written as numbers and are not touched). Times are RQ's
//! ISO-8601 UTC text in CSV and unix seconds in JSON (the API's `JobSummary`).

use futures::future::BoxFuture;

use crate::model::{JobSummary, Page};
use crate::Result;

/// Rows fetched per batch.
pub const BATCH: u64 = 500;
/// Most rows one export writes (the response says nothing more; narrow the list instead).
pub const MAX_ROWS: u64 = 1_000_000;

/// Output format, from the `format` query parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(rename_all = "lowercase"))]
pub enum Format {
    Csv,
    Json,
    Ndjson,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "ndjson" => Some(Format::Ndjson),
            _ => None,
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::Ndjson => "application/x-ndjson",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
        }
    }
}

/// Something that yields job rows in batches.
pub trait Source: Send {
    /// The next batch, or `None` when there are no more rows.
    fn next_batch(&mut self) -> BoxFuture<'_, Result<Option<Vec<JobSummary>>>>;
}

/// An offset-paged read as a `Source`: `fetch(offset, limit)` is called with `BATCH` rows at a
/// time until a page comes back short or empty, the total is reached, or `MAX_ROWS` are out.
pub struct Paged<F> {
    fetch: F,
    offset: u64,
    done: bool,
}

impl<F> Paged<F>
where
    F: FnMut(u64, u64) -> BoxFuture<'static, Result<Page<JobSummary>>> + Send,
{
    pub fn new(fetch: F) -> Paged<F> {
        Paged {
            fetch,
            offset: 0,
            done: false,
        }
    }
}

impl<F> Source for Paged<F>
where
    F: FnMut(u64, u64) -> BoxFuture<'static, Result<Page<JobSummary>>> + Send,
{
    fn next_batch(&mut self) -> BoxFuture<'_, Result<Option<Vec<JobSummary>>>> {
        Box::pin(async move {
            let limit = BATCH.min(MAX_ROWS.saturating_sub(self.offset));
            if self.done || limit == 0 {
                return Ok(None);
            }
            let page = (self.fetch)(self.offset, limit).await?;
            let n = page.items.len() as u64;
            self.offset += n;
            self.done = n < limit || self.offset >= page.total;
            Ok((n > 0).then_some(page.items))
        })
    }
}

/// Turns batches into text: `start`, then `rows` per batch, then `end`.
#[derive(Debug)]
pub struct Encoder {
    format: Format,
    rows: u64,
}

/// CSV columns, in order.
pub const COLUMNS: &[&str] = &[
    "id",
    "queue",
    "status",
    "func_name",
    "description",
    "created_at",
    "enqueued_at",
    "started_at",
    "ended_at",
    "worker_name",
    "score",
    "exc_summary",
    "exists",
    "problem",
];

impl Encoder {
    pub fn new(format: Format) -> Encoder {
        Encoder { format, rows: 0 }
    }

    /// Rows encoded so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn start(&self) -> String {
        match self.format {
            Format::Csv => format!("{}\r\n", COLUMNS.join(",")),
            Format::Json => "[".into(),
            Format::Ndjson => String::new(),
        }
    }

    pub fn batch(&mut self, jobs: &[JobSummary]) -> String {
        let mut out = String::with_capacity(jobs.len() * 256);
        for j in jobs {
            match self.format {
                Format::Csv => csv_row(&mut out, j),
                Format::Json => {
                    out.push_str(if self.rows == 0 { "\n" } else { ",\n" });
                    out.push_str(&json(j));
                }
                Format::Ndjson => {
                    out.push_str(&json(j));
                    out.push('\n');
                }
            }
            self.rows += 1;
        }
        out
    }

    pub fn end(&self) -> String {
        match self.format {
            Format::Json => "\n]\n".into(),
            _ => String::new(),
        }
    }
}

fn json(j: &JobSummary) -> String {
    // JobSummary holds only strings, numbers and options: serialising cannot fail.
    serde_json::to_string(j).unwrap_or_else(|_| "null".into())
}

fn csv_row(out: &mut String, j: &JobSummary) {
    let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let time = |v: Option<f64>| v.map(crate::time::format_rq).unwrap_or_default();
    let status = j.status.as_ref().map(|s| s.as_str().to_string());
    let cells: [Cell; 14] = [
        Cell::Text(Some(&j.id)),
        Cell::Text(j.origin.as_deref()),
        Cell::Text(status.as_deref()),
        Cell::Text(j.func_name.as_deref()),
        Cell::Text(j.description.as_deref()),
        Cell::Num(time(j.created_at)),
        Cell::Num(time(j.enqueued_at)),
        Cell::Num(time(j.started_at)),
        Cell::Num(time(j.ended_at)),
        Cell::Text(j.worker_name.as_deref()),
        Cell::Num(num(j.score)),
        Cell::Text(j.exc_summary.as_deref()),
        Cell::Num(j.exists.to_string()),
        Cell::Text(j.problem.as_deref()),
    ];
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match c {
            Cell::Text(t) => out.push_str(&csv_cell(t.unwrap_or(""))),
            Cell::Num(n) => out.push_str(n),
        }
    }
    out.push_str("\r\n");
}

enum Cell<'a> {
    Text(Option<&'a str>),
    /// Written by us from a number or a bool: never quoted or guarded.
    Num(String),
}

/// One CSV text cell: formula-guarded, then quoted if needed.
pub fn csv_cell(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formula_guarded() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-cmd"), "'-cmd");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell(""), "");
    }

    fn job(id: &str) -> JobSummary {
        JobSummary {
            id: id.into(),
            exists: true,
            status: None,
            origin: Some("q".into()),
            func_name: Some("=cmd|' /C calc'!A0".into()),
            description: None,
            created_at: Some(1.5),
            enqueued_at: None,
            started_at: None,
            ended_at: None,
            worker_name: None,
            score: Some(-1.0),
            exc_summary: Some("ValueError: a, b".into()),
            problem: None,
        }
    }

    #[test]
    fn encoders_frame_their_rows() {
        let mut e = Encoder::new(Format::Json);
        let text = e.start() + &e.batch(&[job("a")]) + &e.batch(&[job("b")]) + &e.end();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 2);
        assert_eq!(e.rows(), 2);
        let empty = Encoder::new(Format::Json);
        let v: serde_json::Value = serde_json::from_str(&(empty.start() + &empty.end())).unwrap();
        assert_eq!(v, serde_json::json!([]));

        let mut c = Encoder::new(Format::Csv);
        let text = c.start() + &c.batch(&[job("a")]);
        let row = text.lines().nth(1).unwrap();
        assert_eq!(
            row,
            "a,q,,'=cmd|' /C calc'!A0,,1970-01-01T00:00:01.500000Z,,,,,-1,\"ValueError: a, b\",true,"
        );
    }
}
