//! The layout of human-readable bounces, as data (`formats/text.yaml`): where the returned
//! original message starts, and which addresses in the bounce's own text are candidates for
//! the failed recipient.

use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Layout {
    original_message: Vec<String>,
    not_recipients: Vec<String>,
}

/// The patterns, compiled with `regex-lite` (they run on a few dozen lines per bounce; what
/// counts is that compiling them costs nothing at start-up).
struct Compiled {
    original: Vec<regex_lite::Regex>,
    not_recipient: Vec<regex_lite::Regex>,
}

static LAYOUT: LazyLock<Compiled> = LazyLock::new(|| {
    let l: Layout = serde_json::from_str(crate::formats::TEXT).expect("formats/text.yaml is valid");
    let compile = |p: &[String]| -> Vec<regex_lite::Regex> {
        p.iter()
            .map(|r| {
                regex_lite::RegexBuilder::new(r)
                    .case_insensitive(true)
                    .build()
                    .expect("formats/text.yaml patterns compile")
            })
            .collect()
    };
    Compiled {
        original: compile(&l.original_message),
        not_recipient: compile(&l.not_recipients),
    }
});

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+'=\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+").unwrap()
});

/// The bounce's own text: everything before the returned original message.
pub fn own_text(text: &str) -> &str {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if at > 0 && LAYOUT.original.iter().any(|r| r.is_match(line.trim_end())) {
            return &text[..at];
        }
        at += line.len();
    }
    text
}

/// Distinct addresses in `text` that may be the failed recipient, in order of appearance;
/// `exclude` are addresses known to be someone else (the bounce's sender, the original sender).
pub fn candidate_recipients(text: &str, exclude: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in ADDRESS.find_iter(text) {
        let a = m.as_str().trim_end_matches('.').to_owned();
        let lower = a.to_ascii_lowercase();
        if LAYOUT.not_recipient.iter().any(|r| r.is_match(&lower))
            || exclude.iter().any(|e| e.eq_ignore_ascii_case(&a))
            || out.iter().any(|o| o.eq_ignore_ascii_case(&a))
        {
            continue;
        }
        out.push(a);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_text_stops_at_the_returned_message() {
        let t = "Delivery to the following recipient failed:\n\n  a@example.com\n\n----- Original message -----\n\nFrom: b@example.org\n";
        assert!(own_text(t).ends_with("a@example.com\n\n"));
        assert_eq!(
            candidate_recipients(own_text(t), &[]),
            vec!["a@example.com"]
        );
    }

    #[test]
    fn reporting_addresses_are_not_recipients() {
        let t = "From MAILER-DAEMON@mx.example.org: <c@example.com> failed; write to postmaster@example.org";
        assert_eq!(
            candidate_recipients(t, &["x@example.net"]),
            vec!["c@example.com"]
        );
    }
}
