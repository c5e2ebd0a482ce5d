//! What the engine's TOML files (`cron` schedules, `--limits`) share: a refusal names the 1-based
//! line and the reason, computed from the parser's byte offsets.

/// A refused file: the 1-based line (0 when the file as a whole is wrong) and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ConfigError {
    pub line: usize,
    pub reason: String,
}

impl ConfigError {
    /// The error at byte offset `pos` of `text`.
    pub fn at(text: &str, pos: usize, reason: impl Into<String>) -> Self {
        ConfigError {
            line: line_of(text, pos),
            reason: reason.into(),
        }
    }

    /// A TOML syntax or shape error, its message folded onto one line.
    pub fn from_toml(text: &str, e: &toml::de::Error) -> Self {
        let reason: Vec<&str> = e
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        match e.span() {
            Some(s) => Self::at(text, s.start, reason.join("; ")),
            None => ConfigError {
                line: 0,
                reason: reason.join("; "),
            },
        }
    }
}

/// The 1-based line of byte offset `pos`. An offset past the last written character (an
/// unclosed array at the end of the file) belongs to the last written line.
pub fn line_of(text: &str, pos: usize) -> usize {
    let end = text.trim_end().len().saturating_sub(1);
    text.get(..pos.min(end))
        .map_or(1, |t| t.matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_from_one_and_trailing_errors_stay_on_the_last_line() {
        let text = "a = 1\nb = [\n\n\n";
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 6), 2);
        assert_eq!(line_of(text, text.len()), 2);
        let e = toml::from_str::<toml::Value>(text).unwrap_err();
        assert_eq!(ConfigError::from_toml(text, &e).line, 2);
    }
}
