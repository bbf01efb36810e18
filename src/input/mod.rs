//! Reading what people paste or have on disk into [`Finding`]s: one per delivery error, with
//! its codes, chain and the values around it. Readers know nothing of the knowledge base.
//!
//! A paste may mix kinds: protocol log lines are taken first, then `Get-Queue`/`Get-Message`
//! property blocks, then NDR text, and whatever is left is scanned for bare SMTP replies.
//! Findings about the same remote host are then explained together.

mod bounce_text;
pub mod chain;
pub mod decode;
mod get_queue;
pub mod message;
mod ndr_text;
mod protocol_log;
mod smtp_line;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

pub use chain::Link;

use crate::codes::EnhancedCode;
use crate::error::{Error, ErrorKind, Result};

/// The kinds of input `ndr` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InputKind {
    /// A pasted NDR body.
    NdrText,
    /// Exchange `Get-Queue` / `Get-Message` / `Get-MessageTrackingLog` output.
    GetQueue,
    /// Exchange SMTP send/receive protocol log lines.
    ProtocolLog,
    /// A bare SMTP reply line.
    SmtpLine,
    /// Free text none of the readers understood, kept only when an entry recognises it.
    Text,
    /// An RFC 5322 message: a saved bounce, one message of an mbox or a Maildir.
    Message,
}

impl InputKind {
    /// Every kind, in the order readers run.
    pub const ALL: [InputKind; 4] = [
        InputKind::ProtocolLog,
        InputKind::GetQueue,
        InputKind::NdrText,
        InputKind::SmtpLine,
    ];

    /// The name used on the command line, in samples and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            InputKind::NdrText => "ndr-text",
            InputKind::GetQueue => "get-queue",
            InputKind::ProtocolLog => "protocol-log",
            InputKind::SmtpLine => "smtp-line",
            InputKind::Text => "text",
            InputKind::Message => "message",
        }
    }
}

impl fmt::Display for InputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for InputKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        // Every kind a user may force: the text readers and whole messages.
        let known = [InputKind::ALL.as_slice(), &[InputKind::Message]].concat();
        known
            .iter()
            .copied()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = known.iter().map(|k| k.name()).collect();
                Error::new(
                    ErrorKind::Usage,
                    format!("unknown input kind '{s}' (known: {})", names.join(", ")),
                )
            })
    }
}

/// The longest diagnostic kept, in bytes.
pub const MAX_DIAGNOSTIC: usize = 16 * 1024;

/// One delivery error found in the input.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The reader that produced it.
    pub kind: InputKind,
    /// Where the input came from: a path or `-`.
    pub source: String,
    /// Index of the message within the source (0 for a single paste).
    pub message: usize,
    /// 1-based line in the input where the error text starts.
    pub line: usize,
    /// The failed recipient, when known.
    pub recipient: Option<String>,
    /// The outermost reply code.
    pub reply_code: Option<u16>,
    /// The outermost enhanced code.
    pub status: Option<EnhancedCode>,
    /// The raw error text, untouched.
    pub diagnostic: String,
    /// The error split into links, outermost first.
    pub chain: Vec<Link>,
    /// Values read around the error: remote_ip, fqdn, lrt, queue_identity, connector_name …
    pub context: BTreeMap<String, String>,
    /// Other lines about the same failure (a protocol log session, earlier attempts) that may
    /// say *why*; the matcher reads them as the innermost evidence.
    pub related: Vec<String>,
}

impl Finding {
    /// A finding for `diagnostic`, with its chain and outer codes worked out.
    pub fn new(kind: InputKind, line: usize, diagnostic: impl Into<String>) -> Finding {
        let mut diagnostic: String = diagnostic.into();
        // Real replies are a few hundred bytes; a runaway "line" is cut, not matched whole.
        if diagnostic.len() > MAX_DIAGNOSTIC {
            let mut end = MAX_DIAGNOSTIC;
            while !diagnostic.is_char_boundary(end) {
                end -= 1;
            }
            diagnostic.truncate(end);
            diagnostic.push('…');
        }
        let chain = chain::split(&diagnostic);
        let (reply_code, status) = chain
            .first()
            .map(|l| (l.reply_code, l.status))
            .unwrap_or_default();
        Finding {
            kind,
            source: "-".into(),
            message: 0,
            line,
            recipient: None,
            reply_code,
            status,
            diagnostic,
            chain,
            context: BTreeMap::new(),
            related: Vec::new(),
        }
    }

    /// Records a context value unless one is already known or the value is empty.
    pub fn set(&mut self, key: &str, value: impl AsRef<str>) {
        let v = value.as_ref().trim();
        if !v.is_empty() {
            self.context
                .entry(key.to_owned())
                .or_insert_with(|| v.to_owned());
        }
    }

    /// The remote IP this finding is about (the `remote_ip` context value).
    fn remote_ip(&self) -> Option<&str> {
        self.context.get("remote_ip").map(String::as_str)
    }
}

/// Collects findings, folding repeats of the same error into one finding with a count (a log
/// of ten thousand identical failures is one explanation, not ten thousand), and listing the
/// distinct recipients and remote IPs it was seen with.
#[derive(Default)]
pub(crate) struct Collector {
    items: Vec<Finding>,
    index: HashMap<(InputKind, String, Option<String>), usize>,
    counts: Vec<usize>,
    /// Keep recipients apart: a bounce reports every failed recipient once, even when two
    /// failed with the same words. A paste folds them.
    per_recipient: bool,
}

/// How many distinct values of a repeated error's recipients or IPs are listed.
const MAX_DISTINCT: usize = 10;

impl Collector {
    /// A collector that never folds findings of different recipients together.
    pub fn per_recipient() -> Collector {
        Collector {
            per_recipient: true,
            ..Collector::default()
        }
    }

    pub fn push(&mut self, f: Finding) {
        let who = if self.per_recipient {
            f.recipient.as_ref().map(|r| r.to_ascii_lowercase())
        } else {
            None
        };
        let key = (f.kind, f.diagnostic.clone(), who);
        match self.index.get(&key) {
            Some(&i) => {
                self.counts[i] += 1;
                let first = &mut self.items[i];
                for (one, many) in [("recipient", "recipients"), ("remote_ip", "remote_ips")] {
                    let value = if one == "recipient" {
                        f.recipient.clone()
                    } else {
                        f.context.get(one).cloned()
                    };
                    let Some(v) = value else { continue };
                    let own = if one == "recipient" {
                        first.recipient.clone()
                    } else {
                        first.context.get(one).cloned()
                    };
                    let list = first
                        .context
                        .entry(many.to_owned())
                        .or_insert_with(|| own.unwrap_or_default());
                    let n = list.split(", ").filter(|s| !s.is_empty()).count();
                    if n < MAX_DISTINCT && !list.split(", ").any(|x| x == v) {
                        if !list.is_empty() {
                            list.push_str(", ");
                        }
                        list.push_str(&v);
                    }
                }
            }
            None => {
                self.index.insert(key, self.items.len());
                self.items.push(f);
                self.counts.push(1);
            }
        }
    }

    fn into_findings(self) -> Vec<Finding> {
        let mut items = self.items;
        for (f, n) in items.iter_mut().zip(self.counts) {
            if n > 1 {
                f.context.insert("occurrences".into(), n.to_string());
            }
            // A single distinct value is already in the finding itself.
            for many in ["recipients", "remote_ips"] {
                if f.context.get(many).is_some_and(|l| !l.contains(", ")) {
                    f.context.remove(many);
                }
            }
        }
        items
    }
}

/// The lines of a text with a flag per line saying whether a reader has taken it.
pub(crate) struct Lines<'a> {
    pub lines: Vec<&'a str>,
    pub taken: Vec<bool>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let lines: Vec<&str> = text.split('\n').collect();
        let taken = vec![false; lines.len()];
        Lines { lines, taken }
    }

    /// The untaken lines with their 0-based index, in order.
    pub fn free(&self) -> impl Iterator<Item = (usize, &'a str)> + '_ {
        self.lines
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.taken[*i])
            .map(|(i, l)| (i, *l))
    }
}

/// Everything read from one input.
#[derive(Debug, Clone)]
pub struct Reading {
    /// The kind of the input: the single kind found, or `mixed`.
    pub kind: String,
    /// The findings, in input order.
    pub findings: Vec<Finding>,
}

/// Decodes and reads one input. `kind` forces a reader; otherwise every reader takes the
/// part of the text it recognises.
pub fn read(bytes: &[u8], source: &str, kind: Option<InputKind>) -> Result<Reading> {
    let text = decode::decode(bytes, source)?;
    let is_message = match kind {
        Some(InputKind::Message) => true,
        Some(_) => false,
        None => message::looks_like_message(&text),
    };
    if is_message {
        // mail-parser decodes charsets itself: hand it the raw bytes when they are UTF-8
        // compatible, else the decoded text.
        let raw: &[u8] = if std::str::from_utf8(bytes).is_ok() {
            bytes
        } else {
            text.as_bytes()
        };
        let m = message::read_message(raw, source, 0)?;
        return Ok(Reading {
            kind: InputKind::Message.name().to_owned(),
            findings: m.findings,
        });
    }
    Ok(read_text(&text, source, kind))
}

/// Reads already-decoded text (LF line ends).
pub fn read_text(text: &str, source: &str, kind: Option<InputKind>) -> Reading {
    let mut lines = Lines::new(text);
    let mut collector = Collector::default();
    // A forced kind runs first and alone, except that bare replies stay the fallback for
    // lines it does not take: no error in the input is silently dropped.
    let kinds: Vec<InputKind> = match kind {
        None => InputKind::ALL.to_vec(),
        Some(InputKind::SmtpLine) => vec![InputKind::SmtpLine],
        Some(k) => vec![k, InputKind::SmtpLine],
    };
    for k in kinds {
        match k {
            InputKind::ProtocolLog => protocol_log::read(&mut lines, &mut collector),
            InputKind::GetQueue => get_queue::read(&mut lines, &mut collector),
            InputKind::NdrText => ndr_text::read(&mut lines, &mut collector),
            InputKind::SmtpLine => smtp_line::read(&mut lines, &mut collector),
            InputKind::Text | InputKind::Message => {}
        }
    }
    let mut findings = collector.into_findings();
    attach_leftovers(&lines, &mut findings, text);
    for f in &mut findings {
        f.source = source.to_owned();
    }
    findings.sort_by_key(|f| f.line);
    let findings = correlate(findings);
    let mut found: Vec<InputKind> = findings.iter().map(|f| f.kind).collect();
    found.sort();
    found.dedup();
    let kind = match (found.as_slice(), kind) {
        (_, Some(k)) => k.name().to_owned(),
        ([one], None) => one.name().to_owned(),
        ([], None) => "unknown".to_owned(),
        _ => "mixed".to_owned(),
    };
    Reading { kind, findings }
}

/// Lines no reader took (a certificate dump pasted under a log, a note) may say why the
/// errors happened: they become related lines of every finding of a small paste. A paste with
/// no finding at all becomes one free-text finding, which the matcher keeps only when an entry
/// recognises it (`TLS negotiation failed with error NoCredentials` on its own).
fn attach_leftovers(lines: &Lines<'_>, findings: &mut Vec<Finding>, text: &str) {
    const MAX_LINES: usize = 200;
    const MAX_FINDINGS: usize = 50;
    if findings.is_empty() {
        let mut end = text.len().min(64 * 1024);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let first = lines
            .free()
            .find(|(_, l)| !l.trim().is_empty())
            .map_or(1, |(i, _)| i + 1);
        let mut f = Finding::new(InputKind::Text, first, text[..end].trim());
        f.chain = vec![chain::Link {
            reply_code: f.reply_code,
            status: f.status,
            text: f.diagnostic.clone(),
        }];
        findings.push(f);
        return;
    }
    if findings.len() > MAX_FINDINGS {
        return;
    }
    let leftovers: Vec<String> = lines
        .free()
        .map(|(_, l)| l.trim())
        .filter(|l| !l.is_empty())
        .take(MAX_LINES + 1)
        .map(str::to_owned)
        .collect();
    if leftovers.is_empty() || leftovers.len() > MAX_LINES {
        return;
    }
    for f in findings.iter_mut() {
        f.related.extend(leftovers.iter().cloned());
    }
}

/// Explains protocol-log sessions together with the queue or NDR error about the same remote
/// host: the session's lines (the TLS error, the remote certificate) become related evidence
/// of that error, and its values fill the context. A session is tied to an error by remote
/// IP, or, when the paste holds exactly one of each, to that one.
fn correlate(findings: Vec<Finding>) -> Vec<Finding> {
    let (sessions, mut others): (Vec<Finding>, Vec<Finding>) = findings
        .into_iter()
        .partition(|f| f.kind == InputKind::ProtocolLog);
    if sessions.is_empty() || others.is_empty() {
        let mut all = others;
        all.extend(sessions);
        all.sort_by_key(|f| f.line);
        return all;
    }
    let single = sessions.len() == 1 && others.len() == 1;
    let mut unmatched = Vec::new();
    for s in sessions {
        let target = others
            .iter_mut()
            .find(|o| single || (o.remote_ip().is_some() && o.remote_ip() == s.remote_ip()));
        match target {
            Some(t) => {
                t.set("log_error", &s.diagnostic);
                t.related.extend(s.related.iter().cloned());
                for (k, v) in &s.context {
                    if k != "line" {
                        t.set(k, v);
                    }
                }
            }
            None => unmatched.push(s),
        }
    }
    others.extend(unmatched);
    others.sort_by_key(|f| f.line);
    others
}
