//! Exchange management shell output: `Get-Queue`, `Get-Message` and `Get-MessageTrackingLog`
//! in `Format-List` and `Format-Table` form. Every object with an error (`LastError`,
//! `RecipientStatus`, the error inside `Recipients`) is a finding; bracketed
//! `[{LRT=…};{LED=…};{FQDN=…};{IP=…}]` parts are read in any order, and values wrapped over
//! several lines are joined.

use std::sync::LazyLock;

use regex::Regex;

use super::{Collector, Finding, InputKind, Lines};

/// `Key : value` (Format-List). Keys are PowerShell property names; the space before the
/// colon tells PowerShell output from mail headers (`Subject: …`).
static PROPERTY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z][A-Za-z0-9]{1,40})[ \t]+:(?:\s(.*)|$)").unwrap());
/// The start of one bracketed part: `{LED=`, `{Last attempted server name=`.
static PART: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\[;]\s*\{([A-Za-z][A-Za-z ]{0,40})=").unwrap());

/// Properties that mark the start of a queue, message or tracking object.
const KNOWN: &[&str] = &[
    "Identity",
    "QueueIdentity",
    "DeliveryType",
    "NextHopDomain",
    "NextHopConnector",
    "Status",
    "MessageCount",
    "LastError",
    "RetryCount",
    "LastRetryTime",
    "NextRetryTime",
    "FirstRetryTime",
    "TlsDomain",
    "RunspaceId",
    "FromAddress",
    "Recipients",
    "Queue",
    "Subject",
    "RecipientStatus",
    "EventId",
    "Source",
    "SourceContext",
    "Sender",
    "MessageSubject",
    "ServerHostname",
    "ConnectorId",
    "Reason",
];

/// Properties that carry an error text.
const ERROR_KEYS: &[&str] = &["LastError", "RecipientStatus", "Reason"];

struct Object {
    props: Vec<(String, String, usize)>,
}

impl Object {
    fn get(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v, _)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }
}

pub(super) fn read(lines: &mut Lines<'_>, out: &mut Collector) {
    if !read_table(lines, out) {
        read_list(lines, out);
    }
}

fn read_list(lines: &mut Lines<'_>, out: &mut Collector) {
    let mut objects: Vec<Object> = Vec::new();
    let mut current: Option<Object> = None;
    let mut last_taken: Option<usize> = None;
    for i in 0..lines.lines.len() {
        if lines.taken[i] {
            continue;
        }
        let raw = lines.lines[i];
        let line = raw.trim_end();
        let prop = PROPERTY.captures(line.trim_start()).and_then(|c| {
            let key = c[1].to_owned();
            KNOWN
                .iter()
                .any(|k| k.eq_ignore_ascii_case(&key))
                .then(|| (key, c.get(2).map_or("", |m| m.as_str()).trim().to_owned()))
        });
        // Any other `Key : value` line inside an object is a property too (there are dozens).
        let prop = prop.or_else(|| {
            current.as_ref()?;
            let c = PROPERTY.captures(line)?;
            Some((
                c[1].to_owned(),
                c.get(2).map_or("", |m| m.as_str()).trim().to_owned(),
            ))
        });
        match prop {
            Some((key, value)) => {
                let repeat = current
                    .as_ref()
                    .is_some_and(|o| o.props.iter().any(|(k, _, _)| *k == key));
                if repeat {
                    objects.extend(current.take());
                }
                current
                    .get_or_insert(Object { props: Vec::new() })
                    .props
                    .push((key, value, i + 1));
                lines.taken[i] = true;
                last_taken = Some(i);
            }
            None if line.trim().is_empty() => {
                // Blank lines separate objects only when an object is complete enough to
                // stand alone; PowerShell also puts them between wrapped properties.
            }
            None => {
                // A wrapped value continues on the next line(s), indented or not.
                let continues = last_taken == Some(i.wrapping_sub(1)) && current.is_some();
                if continues {
                    if let Some((_, v, _)) = current.as_mut().and_then(|o| o.props.last_mut()) {
                        if !v.is_empty() {
                            v.push(' ');
                        }
                        v.push_str(line.trim());
                    }
                    lines.taken[i] = true;
                    last_taken = Some(i);
                } else if let Some(o) = current.take() {
                    objects.push(o);
                }
            }
        }
    }
    objects.extend(current);
    for o in objects {
        finding_for(&o, out);
    }
}

fn finding_for(o: &Object, out: &mut Collector) {
    let error = ERROR_KEYS.iter().find_map(|k| {
        o.props.iter().find(|(key, v, _)| {
            key.eq_ignore_ascii_case(k) && !v.trim().is_empty() && v.trim() != "{}"
        })
    });
    let (text, line, recipient) = match error {
        Some((_, v, line)) => (v.clone(), *line, None),
        None => match o.get("Recipients").and_then(recipient_error) {
            Some((addr, text)) => {
                let line = o
                    .props
                    .iter()
                    .find(|(k, _, _)| k == "Recipients")
                    .map_or(1, |p| p.2);
                (text, line, Some(addr))
            }
            None => match queue_state(o) {
                Some(state) => (state, o.props.first().map_or(1, |p| p.2), None),
                None => return,
            },
        },
    };
    let parts = bracketed_parts(&text);
    let diagnostic = parts
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("LED"))
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            text.trim()
                .trim_start_matches('{')
                .trim_end_matches('}')
                .to_owned()
        });
    let mut f = Finding::new(InputKind::GetQueue, line, diagnostic);
    f.recipient = recipient.or_else(|| {
        o.get("Recipients")
            .and_then(|r| recipient_error(r).map(|(a, _)| a))
    });
    for (key, ctx) in [
        ("Identity", "queue_identity"),
        ("QueueIdentity", "queue_identity"),
        ("Queue", "queue_identity"),
        ("Status", "queue_status"),
        ("NextHopDomain", "next_hop_domain"),
        ("MessageCount", "message_count"),
        ("DeliveryType", "delivery_type"),
        ("TlsDomain", "tls_domain"),
        ("LastRetryTime", "last_retry_time"),
        ("RetryCount", "retry_count"),
        ("FromAddress", "sender"),
        ("Sender", "sender"),
        ("EventId", "event_id"),
        ("Subject", "subject"),
        ("MessageSubject", "subject"),
    ] {
        if let Some(v) = o.get(key) {
            f.set(ctx, v);
        }
    }
    for (k, v) in &parts {
        let key = match k.to_ascii_uppercase().as_str() {
            "LED" => continue,
            "LRT" => "lrt".to_owned(),
            "FQDN" => "fqdn".to_owned(),
            "IP" => "remote_ip".to_owned(),
            "MSG" => "msg".to_owned(),
            other => other.to_ascii_lowercase().replace(' ', "_"),
        };
        f.set(&key, v);
    }
    if let Some(msg) = f.context.get("msg").cloned() {
        // Exchange Online puts the socket error beside the LED: it is the innermost link.
        f.chain.push(super::chain::Link {
            reply_code: None,
            status: None,
            text: msg,
        });
    }
    if let Some(ep) = LAST_ENDPOINT.captures(&f.diagnostic) {
        let ep = ep[1].trim_end_matches(['\'', '"', '.', ']']).to_owned();
        f.set("remote_endpoint", ep);
    }
    out.push(f);
}

static LAST_ENDPOINT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i-u:last endpoint attempted was )(\S+)").unwrap());

/// A queue that needs attention even without a LastError: the Poison queue holding messages,
/// a suspended queue, the Unreachable queue holding messages. The finding's text states it
/// in words the knowledge base can match (`Poison queue holds 3 messages`).
fn queue_state(o: &Object) -> Option<String> {
    let identity = o.get("Identity").or(o.get("QueueIdentity"))?;
    let count: u64 = o
        .get("MessageCount")
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(0);
    let status = o.get("Status").unwrap_or("");
    let delivery = o.get("DeliveryType").unwrap_or("");
    let messages = |n: u64| {
        if n == 1 {
            "1 message".to_owned()
        } else {
            format!("{n} messages")
        }
    };
    if identity.to_ascii_lowercase().ends_with("\\poison") && count > 0 {
        Some(format!("Poison queue {identity} holds {}", messages(count)))
    } else if status.eq_ignore_ascii_case("Suspended") {
        Some(format!(
            "Queue {identity} is Suspended with {}",
            messages(count)
        ))
    } else if delivery.eq_ignore_ascii_case("Unreachable") && count > 0 {
        Some(format!(
            "Unreachable queue {identity} holds {}",
            messages(count)
        ))
    } else {
        None
    }
}

/// `[{LRT=…};{LED=…};{FQDN=…};{IP=…}]` in any order; values may hold `;`, quotes and braces.
pub(crate) fn bracketed_parts(text: &str) -> Vec<(String, String)> {
    let starts: Vec<(usize, usize, String)> = PART
        .captures_iter(text)
        .map(|c| {
            let whole = c.get(0).unwrap();
            (whole.start(), whole.end(), c[1].to_owned())
        })
        .collect();
    let mut parts = Vec::new();
    for (n, (_, value_start, key)) in starts.iter().enumerate() {
        let end = starts.get(n + 1).map_or(text.len(), |next| next.0);
        let mut value = text[*value_start..end].trim_end();
        if n + 1 == starts.len() {
            value = value.strip_suffix(']').unwrap_or(value).trim_end();
        }
        // Exactly one closing brace ends the part; the value itself may end in a brace.
        let value = value.strip_suffix('}').unwrap_or(value).trim();
        parts.push((key.clone(), value.to_owned()));
    }
    parts
}

/// The error inside a `Recipients` value: `{chris@contoso.com;2;2;<error>;16;<connector>;0}`.
fn recipient_error(value: &str) -> Option<(String, String)> {
    let inner = value.trim().trim_start_matches('{').trim_end_matches('}');
    let fields: Vec<&str> = inner.split(';').collect();
    let addr = fields.first()?.trim();
    if !addr.contains('@') {
        return None;
    }
    let error = fields.get(3)?.trim();
    (!error.is_empty()).then(|| (addr.to_owned(), error.to_owned()))
}

/// `Format-Table` output: a header row, a row of dashes, then rows cut at the column starts.
fn read_table(lines: &mut Lines<'_>, out: &mut Collector) -> bool {
    let n = lines.lines.len();
    let mut found = false;
    let mut i = 0;
    while i + 1 < n {
        let header = lines.lines[i];
        let dashes = lines.lines[i + 1].trim_end();
        let is_rule = !dashes.is_empty()
            && dashes.chars().all(|c| c == '-' || c == ' ')
            && dashes.contains("--");
        let has_known = header.split_whitespace().any(|h| KNOWN.contains(&h));
        if lines.taken[i] || !is_rule || !has_known {
            i += 1;
            continue;
        }
        // Column starts are where runs of dashes begin.
        let mut starts = Vec::new();
        let bytes = dashes.as_bytes();
        for (p, &b) in bytes.iter().enumerate() {
            if b == b'-' && (p == 0 || bytes[p - 1] == b' ') {
                starts.push(p);
            }
        }
        let names: Vec<String> = starts
            .iter()
            .enumerate()
            .map(|(c, &s)| {
                let e = starts.get(c + 1).copied().unwrap_or(header.len());
                slice(header, s, e).trim().to_owned()
            })
            .collect();
        lines.taken[i] = true;
        lines.taken[i + 1] = true;
        let mut j = i + 2;
        let mut objects = Vec::new();
        while j < n && !lines.lines[j].trim().is_empty() {
            let row = lines.lines[j];
            let props = names
                .iter()
                .enumerate()
                .map(|(c, name)| {
                    let s = starts[c];
                    let e = if c + 1 < starts.len() {
                        starts[c + 1]
                    } else {
                        usize::MAX
                    };
                    (name.clone(), slice(row, s, e).trim().to_owned(), j + 1)
                })
                .collect();
            objects.push(Object { props });
            lines.taken[j] = true;
            j += 1;
        }
        for o in objects {
            finding_for(&o, out);
        }
        found = true;
        i = j;
    }
    found
}

/// The characters of `s` from column `start` to `end` (columns count chars, not bytes).
fn slice(s: &str, start: usize, end: usize) -> String {
    s.chars()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_in_any_order_with_nested_quotes_and_braces() {
        let p = bracketed_parts(
            "[{LED=451-4.7.23 deferred i{2b0c}};{MSG=};{FQDN=mx.example.com};{IP=203.0.113.10};{LRT=1/21/2025 3:45:12 AM}]",
        );
        let get = |k: &str| p.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("LED"), Some("451-4.7.23 deferred i{2b0c}"));
        assert_eq!(get("MSG"), Some(""));
        assert_eq!(get("FQDN"), Some("mx.example.com"));
        assert_eq!(get("IP"), Some("203.0.113.10"));
        assert_eq!(get("LRT"), Some("1/21/2025 3:45:12 AM"));
    }

    #[test]
    fn poison_suspended_and_unreachable_queues_are_findings_without_an_error() {
        let text = "Identity     : EX01\\Poison\nStatus       : Ready\nMessageCount : 3\nLastError    :\n\nIdentity     : EX01\\7\nStatus       : Suspended\nMessageCount : 1\n\nIdentity     : EX01\\Unreachable\nDeliveryType : Unreachable\nMessageCount : 2\n\nIdentity     : EX01\\Submission\nStatus       : Ready\nMessageCount : 0\n";
        let r = crate::input::read_text(text, "-", None);
        let got: Vec<&str> = r.findings.iter().map(|f| f.diagnostic.as_str()).collect();
        assert_eq!(
            got,
            vec![
                "Poison queue EX01\\Poison holds 3 messages",
                "Queue EX01\\7 is Suspended with 1 message",
                "Unreachable queue EX01\\Unreachable holds 2 messages"
            ]
        );
    }

    #[test]
    fn recipients_value_carries_the_error() {
        assert_eq!(
            recipient_error(
                "{chris@contoso.example;2;2;A matching connector cannot be found to route the external recipient;16;<No Matching Connector>;0}"
            ),
            Some((
                "chris@contoso.example".into(),
                "A matching connector cannot be found to route the external recipient".into()
            ))
        );
    }
}
