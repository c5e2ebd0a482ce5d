//! Flash messages: after an action the browser is redirected back with `?ok=` or `?err=`.

use crate::format;

/// `return_to` if it is a local path (no open redirect), minus earlier flash / confirm
/// parameters, plus `key=value`.
pub fn with_flash(return_to: &str, key: &str, value: &str) -> String {
    let local = return_to.starts_with('/')
        && !return_to.starts_with("//")
        && !return_to.contains('\\')
        && !return_to.chars().any(|c| c.is_control());
    let base = if local { return_to } else { "/" };
    let (path, query) = base.split_once('?').unwrap_or((base, ""));
    let path = path.split('#').next().unwrap_or("/");
    let mut kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            !pair.is_empty() && !matches!(name, "ok" | "err" | "confirm" | "__err" | "__path")
        })
        .collect();
    let flash = format!("{key}={}", format::url_part(value));
    kept.push(&flash);
    format!("{path}?{}", kept.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_redirects_stay_local_and_drop_old_flashes() {
        assert_eq!(
            with_flash("/failed?page=2&ok=x", "ok", "done"),
            "/failed?page=2&ok=done"
        );
        assert_eq!(
            with_flash("/failed?confirm=requeue-all", "err", "a b"),
            "/failed?err=a%20b"
        );
        assert_eq!(with_flash("https://evil.example/", "ok", "x"), "/?ok=x");
        assert_eq!(with_flash("//evil.example/", "ok", "x"), "/?ok=x");
        assert_eq!(with_flash("", "ok", "x"), "/?ok=x");
    }
}
