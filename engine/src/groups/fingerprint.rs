//! Fingerprint of one failure: exception type + message with its volatile parts normalised
//! (numbers, hex, UUIDs, quoted values, paths, addresses) + the innermost frame of user code
//! (file and function). Pure functions over the traceback *text* — the same for Python RQ's
//! tracebacks (results stream `exc_string` or the legacy zlib'd `exc_info`) and Taskmill's,
//! which imitate Python's layout. Nothing here can fail: text that is not a traceback still has
//! a last line, and no text at all is the caller's "undecodable" group.

/// The fingerprint of failures whose traceback could not be read (no hash, no text, bad zlib).
pub const UNDECODABLE: &str = "undecodable";
/// Longest normalised message that takes part in the fingerprint (and example shown).
const MAX_MESSAGE: usize = 500;

/// What a traceback says about its failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// `ValueError`, `rq.timeouts.JobTimeoutException`; empty when the last line is no
    /// `Type: message` (e.g. "Job stopped by user, work-horse terminated.").
    pub exc_type: String,
    /// The message as written (first `MAX_MESSAGE` chars), for display.
    pub message: String,
    /// The message with volatile parts replaced by placeholders.
    pub normalised: String,
    /// Innermost frame of user code: the file's last two path components and the function.
    pub frame: Option<(String, String)>,
}

impl Failure {
    /// 16 hex digits (FNV-1a 64 over the parts): stable across processes and versions.
    pub fn fingerprint(&self) -> String {
        let (file, func) = self.frame.clone().unwrap_or_default();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for part in [&self.exc_type, &self.normalised, &file, &func] {
            for b in part.bytes().chain([0xff]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{h:016x}")
    }

    /// `Type: message` as the example line of a group.
    pub fn example(&self) -> String {
        match (self.exc_type.is_empty(), self.message.is_empty()) {
            (true, _) => self.message.clone(),
            (false, true) => self.exc_type.clone(),
            (false, false) => format!("{}: {}", self.exc_type, self.message),
        }
    }
}

/// Reads a traceback (the last one of a chain: "During handling of the above exception...").
/// `None` for empty text.
pub fn parse(traceback: &str) -> Option<Failure> {
    let text = traceback.trim_end();
    if text.trim().is_empty() {
        return None;
    }
    let last_tb = text
        .rfind("Traceback (most recent call last):")
        .map_or(text, |i| &text[i..]);
    let mut frames: Vec<(String, String)> = Vec::new();
    let mut tail: Vec<&str> = Vec::new();
    for line in last_tb.lines() {
        if let Some(frame) = frame_line(line) {
            frames.push(frame);
            tail.clear();
        } else if !line.starts_with(' ') && !line.starts_with("Traceback (") {
            tail.push(line);
        }
    }
    // No frames: a plain message; its last non-empty line is the exception line.
    let exc_line: String = if frames.is_empty() {
        text.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string()
    } else {
        tail.iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (exc_type, message) = split_exception(&exc_line);
    let message: String = message.chars().take(MAX_MESSAGE).collect();
    let frame = frames
        .iter()
        .rev()
        .find(|(file, _)| is_user_file(file))
        .or(frames.last())
        .map(|(file, func)| (short_path(file), func.clone()));
    Some(Failure {
        normalised: normalise(&message),
        exc_type,
        message,
        frame,
    })
}

/// `  File "/app/tasks.py", line 12, in charge` → (path, function). Taskmill's own frames have
/// no line: `  File "taskmill", in perform`.
fn frame_line(line: &str) -> Option<(String, String)> {
    let rest = line.trim_start().strip_prefix("File \"")?;
    let (file, after) = rest.split_once('"')?;
    let func = after.rsplit_once(", in ")?.1.trim();
    Some((file.to_string(), func.to_string()))
}

/// Library and interpreter frames are not "user code".
fn is_user_file(file: &str) -> bool {
    let f = file.replace('\\', "/");
    !(f.contains("/site-packages/")
        || f.contains("/dist-packages/")
        || f.starts_with('<')
        || f.contains("/lib/python")
        || f.contains("/rq/"))
}

/// The last two components: deployments differ in their prefix (`/srv/releases/42/app/x.py`).
fn short_path(file: &str) -> String {
    let f = file.replace('\\', "/");
    let parts: Vec<&str> = f.rsplitn(3, '/').collect();
    match parts.as_slice() {
        [name, dir, _] | [name, dir] if !dir.is_empty() => format!("{dir}/{name}"),
        _ => f.trim_start_matches('/').to_string(),
    }
}

/// `pkg.Error: message` → (`pkg.Error`, `message`); anything else is all message.
fn split_exception(line: &str) -> (String, String) {
    let is_type = |t: &str| {
        !t.is_empty()
            && t.len() <= 200
            && t.split('.').all(|p| {
                !p.is_empty()
                    && !p.starts_with(|c: char| c.is_ascii_digit())
                    && p.chars().all(|c| c.is_alphanumeric() || c == '_')
            })
    };
    match line.split_once(':') {
        Some((t, m)) if is_type(t) => (t.to_string(), m.trim().to_string()),
        _ if is_type(line) => (line.to_string(), String::new()),
        _ => (String::new(), line.to_string()),
    }
}

/// Replaces the parts of a message that differ between copies of one error: quoted values
/// (`<str>`), UUIDs (`<uuid>`), `0x…` addresses (`<addr>`), paths (`<path>`), IP addresses
/// (`<ip>`), long hex runs (`<hex>`) and numbers (`<n>`).
pub fn normalise(message: &str) -> String {
    let chars: Vec<char> = message.chars().collect();
    let mut out = String::with_capacity(message.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev_word = i > 0 && is_word(chars[i - 1]);
        if (c == '\'' || c == '"') && !prev_word {
            if let Some(end) = chars[i + 1..].iter().position(|&d| d == c) {
                out.push_str("<str>");
                i += end + 2;
                continue;
            }
        }
        if c == '/' && (i == 0 || chars[i - 1].is_whitespace() || chars[i - 1] == '(') {
            let end = run(&chars, i, |d| !d.is_whitespace() && !"'\",)]}".contains(d));
            if chars[i + 1..end].contains(&'/') || end - i > 1 {
                out.push_str("<path>");
                i = end;
                continue;
            }
        }
        if is_word(c) && !prev_word {
            let end = run(&chars, i, |d| {
                is_word(d) || d == '-' || d == '.' || d == ':'
            });
            let token: String = chars[i..end].iter().collect();
            let token = token.trim_end_matches(['.', ':', '-']);
            if let Some(placeholder) = volatile(token) {
                out.push_str(placeholder);
                i += token.chars().count();
                continue;
            }
            if chars[i].is_ascii_digit() {
                // A number with a unit or suffix (`1.5s`, `30ms`): the number goes.
                let end = run(&chars, i, |d| d.is_ascii_digit() || d == '.');
                let end = if chars[end - 1] == '.' { end - 1 } else { end };
                out.push_str("<n>");
                i = end;
                continue;
            }
            // An ordinary word: copy it, its digits included (`utf8`, `v2`, `http2`).
            let end = run(&chars, i, is_word);
            out.extend(&chars[i..end]);
            i = end;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn run(chars: &[char], from: usize, keep: impl Fn(char) -> bool) -> usize {
    from + 1 + chars[from + 1..].iter().take_while(|&&d| keep(d)).count()
}

/// The placeholder for a whole token that is volatile, if it is.
fn volatile(t: &str) -> Option<&'static str> {
    let hex = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit());
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let groups: Vec<&str> = t.split('-').collect();
    if groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && hex(g))
    {
        return Some("<uuid>");
    }
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if hex(h) {
            return Some("<addr>");
        }
    }
    let (host, port) = t.rsplit_once(':').unwrap_or((t, "0"));
    let octets: Vec<&str> = host.split('.').collect();
    if octets.len() == 4 && octets.iter().all(|o| digits(o) && o.len() <= 3) && digits(port) {
        return Some("<ip>");
    }
    if t.len() >= 8 && hex(t) && t.chars().any(|c| c.is_ascii_digit()) {
        return Some("<hex>");
    }
    if digits(&t.replace(['.', '-', ':'], "")) && t.starts_with(|c: char| c.is_ascii_digit()) {
        return Some("<n>");
    }
    None
}

#[cfg(test)]
#[path = "fingerprint_tests.rs"]
mod tests;
