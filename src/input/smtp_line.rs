//! Bare SMTP replies (`421 4.4.2 Connection dropped due to SocketError`) and any other line
//! that carries a 4xx/5xx reply or an enhanced code, read from whatever no other reader took.
//! Multi-line replies (`550-5.1.1 …` then `550 5.1.1 …`) and indented continuations are joined.

use std::sync::LazyLock;

use regex::Regex;

use super::{Collector, Finding, InputKind, Lines};
use crate::codes;

static CONTINUED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*([2-5]\d\d)-").unwrap());

pub(super) fn read(lines: &mut Lines<'_>, out: &mut Collector) {
    let free: Vec<(usize, &str)> = lines.free().collect();
    let mut k = 0;
    while k < free.len() {
        let (idx, line) = free[k];
        if !is_error_line(line) {
            k += 1;
            continue;
        }
        let mut text = line.trim().to_owned();
        let mut used = 1;
        // Join `550-` continuations and indented wrapped lines.
        let mut open = CONTINUED.captures(line).map(|c| c[1].to_owned());
        while let Some((next_idx, next)) = free.get(k + used) {
            if *next_idx != idx + used {
                break;
            }
            let wrapped = next.starts_with([' ', '\t']) && !next.trim().is_empty();
            let continues = open
                .as_deref()
                .is_some_and(|code| next.trim_start().starts_with(code));
            if !(wrapped || continues) {
                break;
            }
            let part = next.trim();
            // Drop the repeated `550-5.1.1` prefix of continuation lines.
            let part = match &open {
                Some(code) if part.starts_with(code.as_str()) => strip_reply_prefix(part),
                _ => part,
            };
            text.push(' ');
            text.push_str(part);
            open = CONTINUED
                .captures(next)
                .map(|c| c[1].to_owned())
                .or(open.filter(|_| wrapped));
            used += 1;
        }
        for n in 0..used {
            lines.taken[free[k + n].0] = true;
        }
        out.push(Finding::new(InputKind::SmtpLine, idx + 1, text));
        k += used;
    }
}

/// True when a line reports a failure: a 4xx/5xx reply code at its start, or a 4.x.x/5.x.x
/// enhanced code anywhere.
fn is_error_line(line: &str) -> bool {
    let t = line
        .trim_start()
        .trim_start_matches(['#', '<', '>', ' ', '\'', '"']);
    let b = t.as_bytes();
    if b.len() >= 4
        && matches!(b[0], b'4' | b'5')
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && matches!(b[3], b' ' | b'-')
    {
        return true;
    }
    codes::scan(line)
        .iter()
        .any(|h| h.status.is_some_and(|s| s.class != 2))
}

/// `550-5.1.1 text` → `text`; `550 5.1.1 text` → `text`.
fn strip_reply_prefix(part: &str) -> &str {
    let rest = part[3..].trim_start_matches([' ', '-']);
    match rest.split_once(' ') {
        Some((code, tail)) if code.parse::<codes::EnhancedCode>().is_ok() => tail,
        _ => rest,
    }
}
