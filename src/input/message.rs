//! RFC 5322 messages (`.eml`, one message of an mbox or a Maildir) through mail-parser: MIME,
//! transfer encodings and charsets decoded; `multipart/report; report-type=delivery-status`
//! read per RFC 3464 (per-message fields, then one finding per recipient group), also when the
//! delivery-status part is attached as `text/plain` or as `message/global-delivery-status`
//! (RFC 6533). Without a machine-readable part, the human-readable text is read by the NDR and
//! bare-reply readers. Auto-replies and feedback-loop (ARF) reports are recognised as such.

use mail_parser::{MessageParser, MimeHeaders, PartType};

use super::bounce_text::{candidate_recipients, own_text};
use super::{Collector, Finding, InputKind, Lines, ndr_text, smtp_line};
use crate::error::{Error, ErrorKind, Result};

/// True when `text` starts like an RFC 5322 message: a block of `Name: value` header lines
/// (with folded continuations) that includes headers a message always has.
pub fn looks_like_message(text: &str) -> bool {
    let mut headers = 0;
    let mut known = 0;
    for line in text.lines().take(200) {
        if line.is_empty() {
            return headers >= 2 && known >= 1;
        }
        if line.starts_with([' ', '\t']) && headers > 0 {
            continue;
        }
        if headers == 0 && line.starts_with("From ") {
            // An mbox separator line before the first message.
            continue;
        }
        let Some((name, _)) = line.split_once(':') else {
            return false;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return false;
        }
        headers += 1;
        let n = name.to_ascii_lowercase();
        if matches!(
            n.as_str(),
            "from"
                | "to"
                | "subject"
                | "date"
                | "received"
                | "return-path"
                | "message-id"
                | "content-type"
                | "mime-version"
        ) {
            known += 1;
        }
    }
    false
}

/// Per-recipient DSN fields kept as context values.
const RECIPIENT_FIELDS: &[(&str, &str)] = &[
    ("Action", "action"),
    ("Remote-MTA", "remote_mta"),
    ("Last-Attempt-Date", "last_attempt_date"),
    ("Will-Retry-Until", "will_retry_until"),
    ("X-Display-Name", "display_name"),
];

/// Per-message DSN fields kept as context values of every recipient's finding.
const MESSAGE_FIELDS: &[(&str, &str)] = &[
    ("Reporting-MTA", "reporting_mta"),
    ("Arrival-Date", "arrival_date"),
    ("X-Postfix-Queue-ID", "postfix_queue_id"),
    ("X-Postfix-Sender", "postfix_sender"),
    ("Received-From-MTA", "received_from_mta"),
];

/// One recipient group (or the per-message group) of a delivery-status report.
type Fields = Vec<(String, String)>;

fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// `rfc822; user@example.com` → `user@example.com`; `smtp; 550 …` → `550 …`.
fn typed_value(v: &str) -> &str {
    match v.split_once(';') {
        Some((ty, rest)) if !ty.contains(' ') && ty.len() < 20 => rest.trim(),
        _ => v.trim(),
    }
}

fn clean_address(v: &str) -> String {
    typed_value(v)
        .trim_matches(|c| c == '<' || c == '>' || c == ' ' || c == '"')
        .to_owned()
}

/// Parses RFC 3464 fields: folded lines are unfolded, groups are separated by blank lines.
pub fn parse_dsn(text: &str) -> (Fields, Vec<Fields>) {
    let mut groups: Vec<Fields> = Vec::new();
    let mut current: Fields = Vec::new();
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !current.is_empty() {
                groups.push(std::mem::take(&mut current));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = current.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':')
            && !k.contains(' ')
        {
            current.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    let is_recipient = |g: &Fields| {
        field(g, "Final-Recipient").is_some()
            || field(g, "Original-Recipient").is_some()
            || field(g, "Action").is_some()
    };
    let per_message = match groups.first() {
        Some(g) if !is_recipient(g) => groups.remove(0),
        _ => Vec::new(),
    };
    (
        per_message,
        groups.into_iter().filter(is_recipient).collect(),
    )
}

/// True when plain text is a delivery-status report pasted as text.
fn is_dsn_text(text: &str) -> bool {
    let head: String = text
        .lines()
        .take(40)
        .collect::<Vec<_>>()
        .join("\n")
        .to_ascii_lowercase();
    (head.contains("final-recipient:") || head.contains("original-recipient:"))
        && (head.contains("status:") || head.contains("action:"))
}

/// What was read from one message.
pub struct MessageReading {
    /// The findings, one per failed or delayed recipient.
    pub findings: Vec<Finding>,
    /// How the message was read: `delivery-status` (RFC 3464), `text` (its human-readable
    /// part), `notification` (an ESP's JSON), `feedback` (ARF) or `auto-reply`; also given to
    /// every finding as the `bounce_form` context value.
    pub form: &'static str,
}

/// Reads one RFC 5322 message.
pub fn read_message(bytes: &[u8], source: &str, index: usize) -> Result<MessageReading> {
    let message = MessageParser::default().parse(bytes).ok_or_else(|| {
        Error::new(
            ErrorKind::Input,
            format!("{source}: message {index} has no RFC 5322 headers"),
        )
    })?;
    let header = |name: &str| message.header_raw(name).map(|v| v.trim().to_owned());
    let subject = message.subject().unwrap_or("").to_owned();
    let from = message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or("")
        .to_owned();

    let mut dsn: Option<String> = None;
    let mut feedback: Option<String> = None;
    let mut texts: Vec<String> = Vec::new();
    for (i, part) in message.parts.iter().enumerate() {
        let (ctype, subtype) = part
            .content_type()
            .map(|c| {
                (
                    c.ctype().to_ascii_lowercase(),
                    c.subtype().unwrap_or("").to_ascii_lowercase(),
                )
            })
            .unwrap_or_else(|| ("text".into(), "plain".into()));
        match (ctype.as_str(), subtype.as_str()) {
            ("message", "delivery-status") | ("message", "global-delivery-status") => {
                let t = String::from_utf8_lossy(part.contents()).into_owned();
                dsn.get_or_insert(t);
            }
            ("message", "feedback-report") => {
                feedback.get_or_insert(String::from_utf8_lossy(part.contents()).into_owned());
            }
            ("text", _) if !matches!(part.body, PartType::Multipart(_)) => {
                let t = match &part.body {
                    PartType::Html(h) => mail_parser::decoders::html::html_to_text(h),
                    _ => part
                        .text_contents()
                        .map(str::to_owned)
                        .unwrap_or_else(|| String::from_utf8_lossy(part.contents()).into_owned()),
                };
                if subtype == "rfc822-headers" {
                    continue;
                }
                if dsn.is_none() && is_dsn_text(&t) {
                    dsn = Some(t);
                } else if i == 0
                    || message.text_body.contains(&(i as u32))
                    || message.html_body.contains(&(i as u32))
                    || texts.is_empty()
                {
                    texts.push(t);
                }
            }
            _ => {}
        }
    }
    let human = texts.join("\n");
    let own = own_text(&human).to_owned();
    // The bounce is addressed to the original sender: neither it nor the reporting system is
    // the failed recipient.
    let mut exclude: Vec<String> = vec![from.clone()];
    if let Some(to) = message.to() {
        exclude.extend(to.iter().filter_map(|a| a.address().map(str::to_owned)));
    }
    let exclude_refs: Vec<&str> = exclude.iter().map(String::as_str).collect();
    let candidates = candidate_recipients(&own, &exclude_refs);

    let context = |f: &mut Finding| {
        f.set("bounce_from", &from);
        f.set("bounce_subject", &subject);
    };

    // Feedback-loop reports (RFC 5965) are complaints, not bounces.
    if let Some(fb) = feedback {
        let (fields, _) = parse_dsn(&fb);
        let text = format!(
            "feedback report: {}",
            field(&fields, "Feedback-Type").unwrap_or("abuse")
        );
        // Who complained: every Original-Rcpt-To (RFC 6650), else the returned message's To.
        let mut who: Vec<String> = fields
            .iter()
            .filter(|(k, _)| {
                k.eq_ignore_ascii_case("Original-Rcpt-To")
                    || k.eq_ignore_ascii_case("Removal-Recipient")
            })
            .map(|(_, v)| clean_address(v))
            .filter(|a| a.contains('@'))
            .collect();
        if who.is_empty() {
            who = message
                .parts
                .iter()
                .filter_map(|p| p.message())
                .filter_map(|m| m.to())
                .flat_map(|to| {
                    to.iter()
                        .filter_map(|a| a.address().map(str::to_owned))
                        .collect::<Vec<_>>()
                })
                .collect();
        }
        let names: Vec<Option<String>> = if who.is_empty() {
            vec![None]
        } else {
            who.into_iter().map(Some).collect()
        };
        let findings = names
            .into_iter()
            .map(|r| {
                let mut f = Finding::new(InputKind::Message, 1, text.clone());
                f.recipient = r;
                context(&mut f);
                f.set("report", "feedback");
                if let Some(v) = field(&fields, "Source-IP") {
                    f.set("source_ip", v);
                }
                f
            })
            .collect();
        return Ok(finish(findings, source, index, "feedback"));
    }

    // Auto-replies (RFC 3834) are answers, not failures.
    let auto = header("Auto-Submitted")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let is_auto_reply = auto.starts_with("auto-replied")
        || header("X-Autoreply").is_some()
        || header("X-Autorespond").is_some()
        || AUTO_SUBJECT
            .iter()
            .any(|p| subject.to_ascii_lowercase().starts_with(p));
    if dsn.is_none() && is_auto_reply && !looks_like_bounce(&subject, &from) {
        let mut f = Finding::new(InputKind::Message, 1, format!("auto-reply: {subject}"));
        f.recipient = Some(from.clone()).filter(|s| !s.is_empty());
        context(&mut f);
        f.set("report", "auto-reply");
        return Ok(finish(vec![f], source, index, "auto-reply"));
    }

    if let Some(found) = ses_findings(&human) {
        let form = if found
            .iter()
            .any(|f| f.context.get("report").is_some_and(|r| r == "feedback"))
        {
            "feedback"
        } else {
            "notification"
        };
        let mut found = found;
        for f in &mut found {
            context(f);
        }
        return Ok(finish(found, source, index, form));
    }
    let mut findings = Vec::new();
    let mut form = "text";
    // The human-readable part, read like a paste: it may carry the reply the DSN lacks.
    let text_findings = {
        let mut lines = Lines::new(&human);
        let mut c = Collector::per_recipient();
        ndr_text::read(&mut lines, &mut c);
        smtp_line::read(&mut lines, &mut c);
        c.into_findings()
    };
    if let Some(d) = &dsn {
        let (per_message, recipients) = parse_dsn(d);
        for g in recipients {
            let action = field(&g, "Action").unwrap_or("failed").to_ascii_lowercase();
            if matches!(action.as_str(), "delivered" | "relayed" | "expanded") {
                continue;
            }
            let recipient = field(&g, "Final-Recipient")
                .or(field(&g, "Original-Recipient"))
                .map(clean_address);
            let status =
                field(&g, "Status").map(|s| s.split_whitespace().next().unwrap_or("").to_owned());
            let diagnostic = field(&g, "Diagnostic-Code").map(|d| typed_value(d).to_owned());
            // Without a diagnostic, the human text's error for this recipient (or the only one).
            let from_text = || {
                text_findings
                    .iter()
                    .find(|t| t.recipient.is_some() && t.recipient == recipient)
                    .or(if text_findings.len() == 1 {
                        text_findings.first()
                    } else {
                        None
                    })
            };
            let text = match (&diagnostic, from_text()) {
                (Some(d), _) => d.clone(),
                (None, Some(t)) => t.diagnostic.clone(),
                (None, None) => status.clone().unwrap_or_default(),
            };
            let mut f = Finding::new(InputKind::Message, 1, text);
            if let Some(s) = status.as_deref().and_then(|s| s.parse().ok()) {
                // The Status field is authoritative for the enhanced code (RFC 3464 §2.3.4).
                f.status = Some(s);
            }
            if let Some(t) = from_text()
                && diagnostic.is_some()
                && t.diagnostic != f.diagnostic
            {
                f.related.push(t.diagnostic.clone());
            }
            f.recipient = recipient;
            // Per-recipient fields, then the report's per-message fields (RFC 3464 §2.2, §2.3).
            for (fields, names) in [(&g, RECIPIENT_FIELDS), (&per_message, MESSAGE_FIELDS)] {
                for (name, key) in names {
                    if let Some(v) = field(fields, name) {
                        f.set(key, typed_value(v));
                    }
                }
            }
            if let Some(v) = field(&g, "Original-Recipient") {
                f.set("original_recipient", clean_address(v));
            }
            context(&mut f);
            findings.push(f);
        }
        form = "delivery-status";
    }
    if findings.is_empty() {
        // No machine-readable report: the human text is all there is.
        let failed: Vec<String> = header("X-Failed-Recipients")
            .map(|v| {
                v.split(',')
                    .map(clean_address)
                    .filter(|a| a.contains('@'))
                    .collect()
            })
            .unwrap_or_default();
        for mut f in text_findings {
            if f.recipient.is_none() && failed.len() == 1 {
                f.recipient = Some(failed[0].clone());
            }
            f.kind = InputKind::Message;
            context(&mut f);
            findings.push(f);
        }
        if findings.is_empty() && !failed.is_empty() && !human.trim().is_empty() {
            // The bounce names its failed recipients but its text has no reply we can read.
            for r in failed {
                let mut f = Finding::new(InputKind::Message, 1, first_paragraphs(&human));
                f.recipient = Some(r);
                context(&mut f);
                findings.push(f);
            }
        }
        if findings.is_empty() && looks_like_bounce(&subject, &from) && !own.trim().is_empty() {
            // A bounce whose text has no reply code: its words are the diagnostic, one finding
            // per address it names (or one without a recipient).
            let text = first_paragraphs(&own);
            let names: Vec<Option<String>> = if candidates.is_empty() {
                vec![None]
            } else {
                candidates
                    .iter()
                    .take(MAX_RECIPIENTS)
                    .cloned()
                    .map(Some)
                    .collect()
            };
            for r in names {
                let mut f = Finding::new(InputKind::Message, 1, text.clone());
                f.recipient = r;
                context(&mut f);
                findings.push(f);
            }
        }
    }
    let mut findings = one_per_recipient(findings);
    // Findings still without a recipient take the bounce's only candidate address, or the
    // candidates in order when there are as many as findings.
    let missing = findings.iter().filter(|f| f.recipient.is_none()).count();
    if missing > 0 && (candidates.len() == 1 || candidates.len() == missing) {
        let mut next = candidates.iter();
        let single = candidates.len() == 1;
        for f in findings.iter_mut().filter(|f| f.recipient.is_none()) {
            f.recipient = if single {
                candidates.first().cloned()
            } else {
                next.next().cloned()
            };
        }
    }
    Ok(finish(findings, source, index, form))
}

const AUTO_SUBJECT: &[&str] = &[
    "out of office",
    "automatic reply",
    "auto:",
    "autoreply",
    "auto-reply",
    "vacation",
    "abwesenheitsnotiz",
    "réponse automatique",
];

/// A reply that names its recipient: `550 <a@example.com>... User unknown`,
/// `550 5.1.1 <a@example.com>: Recipient address rejected`.
static INLINE_RECIPIENT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"^\s*(?:<<<\s*)?[245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}\s+)?<(?P<addr>[^<>\s]+@[^<>\s]+)>",
    )
    .unwrap()
});

/// Every failed recipient once: a reply naming its recipient gets it; further findings for
/// the same recipient (a transcript repeating the reply, an earlier attempt) become related
/// lines of the first; findings without a recipient, when others have one, are attached to
/// the recipient whose domain they mention (else the first).
fn one_per_recipient(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut orphans: Vec<Finding> = Vec::new();
    for mut f in findings {
        if f.recipient.is_none()
            && let Some(c) = INLINE_RECIPIENT.captures(&f.diagnostic)
        {
            f.recipient = Some(c["addr"].to_owned());
        }
        let Some(r) = f.recipient.clone() else {
            orphans.push(f);
            continue;
        };
        match out.iter_mut().find(|o| {
            o.recipient
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(&r))
        }) {
            Some(first) => {
                if first.diagnostic != f.diagnostic && !first.related.contains(&f.diagnostic) {
                    first.related.push(f.diagnostic);
                }
            }
            None => out.push(f),
        }
    }
    if out.is_empty() {
        return orphans;
    }
    for o in orphans {
        let lower = o.diagnostic.to_ascii_lowercase();
        let at = out
            .iter()
            .position(|f| {
                f.recipient
                    .as_deref()
                    .and_then(|r| r.rsplit_once('@'))
                    .is_some_and(|(_, d)| lower.contains(&d.to_ascii_lowercase()))
            })
            .unwrap_or(0);
        // Another error of the same bounce, kept for the reader but not matched as this
        // recipient's cause.
        let other = out[at].context.entry("other_errors".into()).or_default();
        if !other.contains(&o.diagnostic) {
            if !other.is_empty() {
                other.push_str(" | ");
            }
            other.push_str(&o.diagnostic);
        }
    }
    out
}

/// The most recipients one bounce is read as naming.
const MAX_RECIPIENTS: usize = 50;

/// Amazon SES notifications (a JSON body, or an SNS envelope whose `Message` is that JSON):
/// one finding per bounced recipient, or a feedback finding per complaint.
fn ses_findings(text: &str) -> Option<Vec<Finding>> {
    let t = text.trim_start();
    if !t.starts_with('{') {
        return None;
    }
    let end = t.rfind('}')?;
    // Mail systems wrap long lines, which can break a JSON string in two: joining the lines
    // restores it (line breaks between JSON tokens are only whitespace).
    let mut v: serde_json::Value = serde_json::from_str(&t[..=end])
        .or_else(|_| serde_json::from_str(&t[..=end].replace(['\r', '\n'], "")))
        .ok()?;
    if let Some(inner) = v.get("Message").and_then(|m| m.as_str()) {
        v = serde_json::from_str(inner).ok()?;
    }
    let kind = v
        .get("notificationType")
        .or(v.get("eventType"))?
        .as_str()?
        .to_owned();
    let mut out = Vec::new();
    match kind.as_str() {
        "Bounce" => {
            let b = v.get("bounce")?;
            let btype = b.get("bounceType").and_then(|x| x.as_str()).unwrap_or("");
            let sub = b
                .get("bounceSubType")
                .and_then(|x| x.as_str())
                .unwrap_or("");
            for r in b.get("bouncedRecipients")?.as_array()? {
                let s = |k: &str| r.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
                let diag = s("diagnosticCode");
                let text = if diag.is_empty() {
                    format!("Amazon SES bounce: {btype} {sub}")
                } else {
                    typed_value(&diag).to_owned()
                };
                let mut f = Finding::new(InputKind::Message, 1, text);
                f.recipient = Some(s("emailAddress")).filter(|a| !a.is_empty());
                if let Ok(st) = s("status").parse() {
                    f.status = Some(st);
                }
                f.set("action", s("action"));
                f.set("ses_bounce_type", btype);
                f.set("ses_bounce_subtype", sub);
                if let Some(m) = b.get("reportingMTA").and_then(|x| x.as_str()) {
                    f.set("reporting_mta", typed_value(m));
                }
                out.push(f);
            }
        }
        "Complaint" => {
            let c = v.get("complaint")?;
            for r in c.get("complainedRecipients")?.as_array()? {
                let mut f = Finding::new(
                    InputKind::Message,
                    1,
                    "feedback report: complaint".to_owned(),
                );
                f.recipient = r
                    .get("emailAddress")
                    .and_then(|x| x.as_str())
                    .map(str::to_owned);
                f.set("report", "feedback");
                out.push(f);
            }
        }
        "Delivery" => {
            // A delivery notice is not a failure; it yields no finding.
        }
        _ => return None,
    }
    Some(out)
}

/// Subjects and senders of delivery reports.
fn looks_like_bounce(subject: &str, from: &str) -> bool {
    let s = subject.to_ascii_lowercase();
    let f = from.to_ascii_lowercase();
    [
        "undeliver",
        "delivery status notification",
        "delivery failure",
        "returned mail",
        "failure notice",
        "mail delivery failed",
        "non-delivery",
        "nondeliverable",
        "delivery has failed",
        "could not be delivered",
        "not delivered",
        "delivery notification",
        "returned to sender",
        "rejected",
    ]
    .iter()
    .any(|p| s.contains(p))
        || f.starts_with("mailer-daemon")
        || f.starts_with("postmaster")
}

/// The first lines of a human-readable bounce that say something (up to ~1 KiB).
fn first_paragraphs(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        // Decoration lines (`------- Failure Reasons --------`) head sections: skip them
        // before the text starts, stop at them after.
        if line.starts_with("---") || line.starts_with("===") {
            if out.is_empty() {
                continue;
            }
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(line);
        if out.len() > 1024 {
            break;
        }
    }
    out
}

fn finish(
    findings: Vec<Finding>,
    source: &str,
    index: usize,
    form: &'static str,
) -> MessageReading {
    let mut findings = findings;
    for f in &mut findings {
        f.kind = InputKind::Message;
        f.source = source.to_owned();
        f.message = index;
        if let Some(r) = f.recipient.clone() {
            f.set("recipient", r);
        }
        f.set("bounce_form", form);
    }
    MessageReading { findings, form }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_groups_with_folded_diagnostic() {
        let (m, r) = parse_dsn(
            "Reporting-MTA: dns; mx.example.org\nX-Postfix-Queue-ID: 4B1C2D\n\nFinal-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does\n    not exist. - gsmtp\n\nFinal-Recipient: rfc822; b@example.com\nAction: delayed\nStatus: 4.4.1\n",
        );
        assert_eq!(field(&m, "X-Postfix-Queue-ID"), Some("4B1C2D"));
        assert_eq!(r.len(), 2);
        assert_eq!(
            typed_value(field(&r[0], "Diagnostic-Code").unwrap()),
            "550-5.1.1 The email account that you tried to reach does not exist. - gsmtp"
        );
        assert_eq!(
            clean_address(field(&r[1], "Final-Recipient").unwrap()),
            "b@example.com"
        );
    }

    #[test]
    fn message_detection() {
        assert!(looks_like_message(
            "From: a@example.com\nSubject: x\n\nbody"
        ));
        assert!(looks_like_message(
            "Return-Path: <>\nReceived: by x;\n  Mon, 1 Jan 2026\nFrom: MAILER-DAEMON\n\nbody"
        ));
        assert!(!looks_like_message(
            "Identity      : EX01\\1\nStatus        : Retry\n\n"
        ));
        assert!(!looks_like_message(
            "Delivery has failed to these recipients or groups:\n\nx@example.com\n"
        ));
    }
}
