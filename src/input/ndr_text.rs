//! Pasted NDR bodies: Exchange Online and Exchange 2013–2019 ("Delivery has failed…",
//! "Diagnostic information for administrators", "Remote Server returned '…'", "Server at X
//! returned '…'"), the newer layout ("Status code:", "Reported error:"), and Exchange
//! 2007/2010 (`#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##`,
//! `#< #5.1.1 smtp;550 5.1.1 …> #SMTP#`).

use std::sync::LazyLock;

use regex::Regex;

use super::{Collector, Finding, InputKind, Lines};

static MARKERS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i-u:delivery has failed to these recipients|diagnostic information for administrators|remote server returned|generating server|your message (?:wasn't|couldn't be|was not) delivered|delivery is delayed to these recipients|#smtp#|more info for email admins|reported error:|original message headers|this is the mail system at host|\bsaid:|the response (?:from the remote server )?was:|^diagnostic-code:|^final-recipient:|\*\* address not found \*\*|mail delivery (?:subsystem|system)|this message was created automatically by mail delivery software|could not be delivered to one or more of its recipients|the following address\(es\) failed|transcript of session follows|the following addresses had permanent fatal errors|the original message was received at)|(?i-u:server at )\S+.*(?i-u: returned)|##\s*$",
    )
    .unwrap()
});
static REMOTE_RETURNED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i-u)Remote Server returned '").unwrap());
static SERVER_AT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i-u:server at )(?P<host>[^\s(']+)(?: \((?P<ip>[0-9a-fA-F.:]+)\))?(?i-u: returned ')",
    )
    .unwrap()
});
static SMTP_HASH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"#<?\s*(?:(?P<host>[^\s#<>]+)\s+)?#(?P<status>[245]\.\d{1,3}\.\d{1,3})\s+(?i-u:smtp);\s*(?P<text>.*?)>?\s*#(?i-u:smtp)#").unwrap()
});
static HASH_SHORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"#(?P<text>[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3}.*?)\s*##").unwrap()
});
static REPORTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(?i-u:reported error:)\s*(?P<text>.+)$").unwrap());
static STATUS_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(?i-u:status code:)\s*(?P<text>.+)$").unwrap());
static IN_REPLY_TO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s*\((?i-u:in reply to [a-z ]+ command)\)\s*$").unwrap());
/// Postfix: `<addr>: host mx.example.com[192.0.2.1] said: 550 … (in reply to RCPT TO command)`.
static POSTFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^<(?P<addr>[^<>\s]+@[^<>\s]+)>:\s*(?P<text>.*)$").unwrap());
static POSTFIX_HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?i-u:host) (?P<host>\S+?)\[(?P<ip>[^\]]+)\] (?i-u:said|refused to talk to me):\s*",
    )
    .unwrap()
});
/// Gmail: the reply stands on the lines after this.
static RESPONSE_WAS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i-u)^\s*The response (?:from the remote server )?was:\s*$").unwrap()
});
/// RFC 3464 fields pasted as text.
static DSN_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<key>(?i-u:final-recipient|original-recipient|action|status|remote-mta|diagnostic-code)):\s*(?P<value>.*)$").unwrap()
});
/// Sendmail's transcript: `While talking to mx.example.com:`, `>>> RCPT To:<a@b>`, `<<< 550 …`,
/// then a summary per recipient `550 <a@b>... User unknown` (or per host `… (smtp)... …`).
static TALKING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(?i-u:while talking to) (?P<host>[^\s:]+):?\s*$").unwrap());
static SENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*>>> (?P<cmd>.*)$").unwrap());
static RECEIVED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*<<< (?P<reply>.*)$").unwrap());
static SUMMARY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?P<code>[245]\d\d) <(?P<addr>[^<>\s]+@[^<>\s]+)>\.\.\. (?P<text>.*)$")
        .unwrap()
});
static HOST_SUMMARY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*[245]\d\d \S+ \((?i-u:e?smtp|local)\)\.\.\. ").unwrap());
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:[^<>@\s]+\s+)*?[<(]?(?P<addr>[A-Za-z0-9._%+'\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})[>)]?\s*(?:\(.*\))?\s*$").unwrap()
});

/// The first line of an NDR: a paste of several NDRs is read one NDR at a time.
static START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*(?i-u:delivery has failed to these recipients|delivery is delayed to these recipients|your (?:message|e-mail) (?:wasn't|couldn't be|was not) delivered|your message to |this message was created automatically by mail delivery software)|^\s*(?i-u:this is the mail system at host|\*\* address not found \*\*|\*\* message not delivered \*\*|\*\* delivery incomplete \*\*)",
    )
    .unwrap()
});

/// NDR labels per language (`formats/ndr.yaml`), lowercased.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Labels {
    diagnostic_section: Vec<String>,
    generating_server: Vec<String>,
    original_headers: Vec<String>,
    recipients_intro: Vec<String>,
    delayed_intro: Vec<String>,
}

static LABELS: LazyLock<Labels> = LazyLock::new(|| {
    let mut l: Labels =
        serde_json::from_str(crate::formats::NDR).expect("formats/ndr.yaml is valid");
    for list in [
        &mut l.diagnostic_section,
        &mut l.generating_server,
        &mut l.original_headers,
        &mut l.recipients_intro,
        &mut l.delayed_intro,
    ] {
        for s in list.iter_mut() {
            *s = s.to_lowercase();
        }
    }
    l
});

fn has_label(lower: &str, labels: &[String]) -> bool {
    labels.iter().any(|l| lower.contains(l.as_str()))
}

/// True when a line carries one of the localized NDR labels.
fn is_label_line(line: &str) -> bool {
    let lower = line.to_lowercase();
    let l = &*LABELS;
    [
        &l.diagnostic_section,
        &l.generating_server,
        &l.original_headers,
        &l.recipients_intro,
        &l.delayed_intro,
    ]
    .iter()
    .any(|list| has_label(&lower, list))
}

/// `Generierender Server: mx.example.com` in any language: the host, or "" when it stands on
/// the next line.
fn generating_server(line: &str) -> Option<String> {
    let lower = line.trim_start().to_lowercase();
    let label = LABELS
        .generating_server
        .iter()
        .find(|l| lower.starts_with(l.as_str()))?;
    let rest = line.trim_start()[..]
        .get(label.len()..)
        .or_else(|| line.trim_start().split_once(':').map(|(_, r)| r))?;
    let rest = rest.trim_start().strip_prefix(':').unwrap_or(rest).trim();
    Some(rest.split_whitespace().next().unwrap_or("").to_owned())
}

pub(super) fn read(lines: &mut Lines<'_>, out: &mut Collector) {
    let free: Vec<(usize, &str)> = lines.free().collect();
    if !free
        .iter()
        .any(|(_, l)| MARKERS.is_match(l) || is_label_line(l))
    {
        return;
    }
    let mut start = 0;
    for k in 1..=free.len() {
        if k == free.len() || START.is_match(free[k].1) || {
            let lower = free[k].1.trim_start().to_lowercase();
            LABELS
                .recipients_intro
                .iter()
                .chain(&LABELS.delayed_intro)
                .any(|l| lower.starts_with(l.as_str()))
        } {
            let doc = &free[start..k];
            if read_document(doc, out) {
                // The whole NDR body is this reader's.
                for (idx, _) in doc {
                    lines.taken[*idx] = true;
                }
            }
            start = k;
        }
    }
}

/// Reads one NDR; false when it holds no error line this reader knows (its lines are then
/// left to the bare-reply reader).
fn read_document(free: &[(usize, &str)], out: &mut Collector) -> bool {
    let mut generating: Option<String> = None;
    let mut recipient: Option<String> = None;
    let mut recipients_listed: Vec<String> = Vec::new();
    let mut in_header_list = false;
    let mut findings: Vec<Finding> = Vec::new();
    let mut status_code: Option<(usize, String)> = None;
    let mut dsn_recipient: Option<String> = None;
    let mut dsn_status: Option<String> = None;
    let mut dsn_remote: Option<String> = None;
    // Sendmail transcript state: the host being talked to and its last reply.
    let mut talking: Option<String> = None;
    let mut reply: Option<String> = None;
    let mut k = 0;
    while k < free.len() {
        let (idx, line) = free[k];
        let lower = line.to_lowercase();
        if has_label(&lower, &LABELS.original_headers) {
            break;
        }
        if has_label(&lower, &LABELS.recipients_intro) || has_label(&lower, &LABELS.delayed_intro) {
            in_header_list = true;
            k += 1;
            continue;
        }
        if let Some(host) = generating_server(line) {
            if host.is_empty() {
                // The layout puts the server on the next line.
                if let Some((_, next)) = free.get(k + 1) {
                    let h = next.trim();
                    if !h.is_empty() && !h.contains('@') && !h.contains(' ') {
                        generating = Some(h.to_owned());
                    }
                }
            } else {
                generating = Some(host);
            }
            k += 1;
            continue;
        }
        if let Some(c) = TALKING.captures(line) {
            talking = Some(c["host"].to_owned());
            reply = None;
            k += 1;
            continue;
        }
        if SENT.is_match(line) {
            reply = None;
            k += 1;
            continue;
        }
        if let Some(c) = RECEIVED.captures(line) {
            // Multi-line replies (`<<< 550-…`, `<<< 550 …`) are joined.
            let r = c["reply"].trim().to_owned();
            reply = Some(match reply.take() {
                Some(prev) if prev.len() >= 4 && prev.as_bytes()[3] == b'-' => {
                    format!("{prev} {r}")
                }
                _ => r,
            });
            k += 1;
            continue;
        }
        if let Some(c) = SUMMARY.captures(line) {
            // The remote's own reply says more than Sendmail's summary of it.
            let summary = format!("{} {}", &c["code"], &c["text"]);
            let mut f = Finding::new(
                InputKind::NdrText,
                idx + 1,
                reply.clone().unwrap_or_else(|| summary.clone()),
            );
            if reply.is_some() {
                f.related.push(summary);
            }
            f.recipient = Some(c["addr"].to_owned());
            if let Some(h) = &talking {
                f.set("remote_server", h);
            }
            findings.push(f);
            k += 1;
            continue;
        }
        if HOST_SUMMARY.is_match(line) {
            // Sendmail's per-host line repeats what the per-recipient line says.
            k += 1;
            continue;
        }
        if let Some(c) = POSTFIX.captures(line) {
            let first = c.name("text").map_or("", |m| m.as_str());
            // qmail and others put the reason on the lines below `<addr>:`, unindented.
            let (mut text, used) = if first.trim().is_empty() {
                let (t, n) = continued_block(&free[k + 1..]);
                (t, n + 1)
            } else {
                continued(&free[k..], first)
            };
            let mut f_host = None;
            if let Some(h) = POSTFIX_HOST.captures(&text) {
                f_host = Some((h["host"].to_owned(), h["ip"].to_owned()));
                text = text[h.get(0).unwrap().end()..].to_owned();
            }
            let text = IN_REPLY_TO.replace(&text, "").into_owned();
            let mut f = Finding::new(InputKind::NdrText, idx + 1, text);
            f.recipient = Some(c["addr"].to_owned());
            if let Some((host, ip)) = f_host {
                f.set("remote_server", host);
                f.set("remote_ip", ip);
            }
            findings.push(f);
            k += used;
            continue;
        }
        if RESPONSE_WAS.is_match(line)
            && let Some((nidx, _)) = free.get(k + 1)
        {
            let (text, used) = continued_block(&free[k + 1..]);
            if !text.is_empty() {
                let mut f = Finding::new(InputKind::NdrText, nidx + 1, text);
                f.recipient = recipient.clone();
                findings.push(f);
                k += 1 + used;
                continue;
            }
        }
        if let Some(c) = DSN_FIELD.captures(line) {
            let key = c["key"].to_ascii_lowercase();
            let (value, used) = continued(&free[k..], c.name("value").map_or("", |m| m.as_str()));
            let value = value
                .split_once(';')
                .map_or(value.as_str(), |(_, v)| v)
                .trim()
                .to_owned();
            match key.as_str() {
                "final-recipient" => {
                    recipient = Some(value.clone());
                    dsn_recipient = Some(value);
                }
                "diagnostic-code" => {
                    let mut f = Finding::new(InputKind::NdrText, idx + 1, value);
                    f.recipient = dsn_recipient.clone();
                    if let Some(st) = dsn_status.take() {
                        f.status = f.status.or(st.parse().ok());
                    }
                    if let Some(r) = &dsn_remote {
                        f.set("remote_server", r);
                    }
                    findings.push(f);
                }
                "status" => dsn_status = Some(value),
                "remote-mta" => dsn_remote = Some(value),
                _ => {}
            }
            k += used;
            continue;
        }
        if let Some(c) = ADDRESS.captures(line) {
            let addr = c["addr"].to_owned();
            if in_header_list {
                recipients_listed.push(addr.clone());
            }
            recipient = Some(addr.clone());
            // Exim and others indent the reason under the address it belongs to.
            let indent = line.len() - line.trim_start().len();
            let mut block = String::new();
            let mut used = 1;
            while let Some((nidx, next)) = free.get(k + used) {
                let deeper = next.len() - next.trim_start().len() > indent;
                if *nidx != idx + used || next.trim().is_empty() || !deeper {
                    break;
                }
                if !block.is_empty() {
                    block.push(' ');
                }
                block.push_str(next.trim());
                used += 1;
            }
            if !block.is_empty() {
                let mut f = Finding::new(InputKind::NdrText, idx + 2, block);
                f.recipient = Some(addr);
                findings.push(f);
            }
            k += used;
            continue;
        }
        if in_header_list && !line.trim().is_empty() {
            in_header_list = false;
        }
        // Quoted replies may span lines until the closing quote.
        let quoted_start = REMOTE_RETURNED
            .find(line)
            .map(|m| (m.end(), None))
            .or_else(|| {
                SERVER_AT.captures(line).map(|c| {
                    let end = c.get(0).unwrap().end();
                    let host = c.name("host").map(|h| h.as_str().to_owned());
                    let ip = c.name("ip").map(|h| h.as_str().to_owned());
                    (end, Some((host, ip)))
                })
            });
        if let Some((start, server)) = quoted_start {
            let (text, used) = quoted(&free[k..], start);
            let mut f = Finding::new(InputKind::NdrText, idx + 1, text);
            if let Some((host, ip)) = server {
                if let Some(h) = host {
                    f.set("remote_server", h);
                }
                if let Some(ip) = ip {
                    f.set("remote_ip", ip);
                }
            }
            findings.push(f);
            k += used;
            continue;
        }
        if let Some(c) = SMTP_HASH.captures(line) {
            let mut f = Finding::new(InputKind::NdrText, idx + 1, c["text"].trim().to_owned());
            if f.status.is_none() {
                f.status = c["status"].parse().ok();
            }
            if let Some(h) = c.name("host") {
                f.set("remote_server", h.as_str());
            }
            f.recipient = recipient.clone();
            findings.push(f);
            k += 1;
            continue;
        }
        if let Some(c) = HASH_SHORT.captures(line) {
            let mut f = Finding::new(InputKind::NdrText, idx + 1, c["text"].trim().to_owned());
            f.recipient = recipient.clone();
            findings.push(f);
            k += 1;
            continue;
        }
        if let Some(c) = REPORTED.captures(line) {
            findings.push(Finding::new(
                InputKind::NdrText,
                idx + 1,
                c["text"].trim().to_owned(),
            ));
            k += 1;
            continue;
        }
        if let Some(c) = STATUS_CODE.captures(line) {
            status_code = Some((idx + 1, c["text"].trim().to_owned()));
            // The newer layout repeats the code with its text on the next line.
            if let Some((nidx, next)) = free.get(k + 1) {
                let t = next.trim();
                if crate::codes::first_code(t).1.is_some() {
                    let mut text = t.to_owned();
                    let mut used = 2;
                    while let Some((_, more)) = free.get(k + used) {
                        let m = more.trim();
                        if m.is_empty() || MARKERS.is_match(m) || m.ends_with(':') {
                            break;
                        }
                        text.push(' ');
                        text.push_str(m);
                        used += 1;
                    }
                    findings.push(Finding::new(InputKind::NdrText, nidx + 1, text));
                    status_code = None;
                    k += used;
                    continue;
                }
            }
        }
        k += 1;
    }
    if findings.is_empty()
        && let Some((line, text)) = status_code
    {
        findings.push(Finding::new(InputKind::NdrText, line, text));
    }
    if findings.is_empty() {
        return false;
    }
    // "Server at …" lines are a history, newest first: the first is the error, the rest are
    // earlier attempts that may say more.
    let mut merged: Vec<Finding> = Vec::new();
    for f in findings {
        match merged.last_mut() {
            Some(prev)
                if prev.context.contains_key("remote_server")
                    && f.context.contains_key("remote_server")
                    && f.recipient.is_none()
                    && prev.line + 1 >= f.line.saturating_sub(1) =>
            {
                prev.related.push(f.diagnostic);
            }
            _ => merged.push(f),
        }
    }
    let single = (recipients_listed.len() == 1).then(|| recipients_listed[0].clone());
    for mut f in merged {
        if f.recipient.is_none() {
            f.recipient = single.clone().or_else(|| recipient.clone());
        }
        if let Some(g) = &generating {
            f.set("generating_server", g);
        }
        if let Some(r) = f.recipient.clone() {
            f.set("recipient", r);
        }
        out.push(f);
    }
    true
}

/// `first` joined with the indented continuation lines that follow it (folded headers,
/// Postfix's wrapped reasons); returns the text and how many lines it used.
fn continued(lines: &[(usize, &str)], first: &str) -> (String, usize) {
    let mut text = first.trim().to_owned();
    let mut used = 1;
    while let Some((idx, next)) = lines.get(used) {
        if *idx != lines[0].0 + used || !next.starts_with([' ', '\t']) || next.trim().is_empty() {
            break;
        }
        text.push(' ');
        text.push_str(next.trim());
        used += 1;
    }
    (text, used)
}

/// The lines up to the next blank line, joined (Gmail's quoted reply).
fn continued_block(lines: &[(usize, &str)]) -> (String, usize) {
    let mut text = String::new();
    let mut used = 0;
    for (_, l) in lines.iter().take(20) {
        if l.trim().is_empty() {
            if text.is_empty() {
                used += 1;
                continue;
            }
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(l.trim());
        used += 1;
    }
    (text, used.max(1))
}

/// The text from byte `start` of the first line to the closing `'`, across lines; returns the
/// text and how many lines it used.
fn quoted(lines: &[(usize, &str)], start: usize) -> (String, usize) {
    let mut text = String::new();
    for (n, (_, line)) in lines.iter().enumerate().take(12) {
        let part = if n == 0 { &line[start..] } else { line.trim() };
        if let Some(end) = part.rfind('\'')
            && (part[end + 1..].trim().is_empty() || part[end + 1..].trim_start().starts_with('.'))
        {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(&part[..end]);
            return (text.trim().to_owned(), n + 1);
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(part.trim_end());
    }
    // No closing quote: the reply is what stands on the first line.
    (lines[0].1[start..].trim().to_owned(), 1)
}
