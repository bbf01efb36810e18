//! Exchange SMTP send/receive protocol logs (CSV, with or without the `#Fields:` header),
//! read per session: a failing session is one finding carrying its connector, endpoints,
//! last command, certificate lines and the failure text.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::{Collector, Finding, InputKind, Lines};

/// A log line starts with an ISO 8601 UTC timestamp and a comma.
static LOG_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?,").unwrap());
static TLS_FAILED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i-u:tls negotiation failed with error )(\w+)").unwrap());
static REPLY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[45]\d\d[ -]").unwrap());
static FAILURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i-u)TLS negotiation failed|Failed to connect|Winsock error|SocketError|Security status|connection (?:was )?(?:dropped|reset|timed out)|Remote\(SocketError\)").unwrap()
});

/// The standard Exchange field order, used when no `#Fields:` header is present.
const DEFAULT_FIELDS: [&str; 9] = [
    "date-time",
    "connector-id",
    "session-id",
    "sequence-number",
    "local-endpoint",
    "remote-endpoint",
    "event",
    "data",
    "context",
];

/// What is kept of one session while the log is read: enough to explain it, never the whole
/// session (a log of millions of lines is read in one pass with bounded memory per session).
#[derive(Default)]
struct Session {
    id: String,
    first_line: usize,
    connector: String,
    local_endpoint: String,
    remote_endpoint: String,
    last_command: Option<String>,
    certificate_subject: Option<String>,
    certificate_issuer: Option<String>,
    certificate_thumbprint: Option<String>,
    /// The last line that says something failed: (line, text).
    failure: Option<(usize, String)>,
    /// Other lines with content, as `data (context)`, at most [`MAX_RELATED`].
    related: Vec<(usize, String)>,
}

/// Lines kept per session as related evidence.
const MAX_RELATED: usize = 64;

/// The columns this reader uses, by position in the `#Fields:` list.
struct Columns {
    connector: Option<usize>,
    session: Option<usize>,
    local: Option<usize>,
    remote: Option<usize>,
    event: Option<usize>,
    data: Option<usize>,
    context: Option<usize>,
}

impl Columns {
    fn from_fields(fields: &[String]) -> Columns {
        let at = |name: &str| fields.iter().position(|f| f == name);
        Columns {
            connector: at("connector-id"),
            session: at("session-id"),
            local: at("local-endpoint"),
            remote: at("remote-endpoint"),
            event: at("event"),
            data: at("data"),
            context: at("context"),
        }
    }
}

pub(super) fn read(lines: &mut Lines<'_>, out: &mut Collector) {
    let default: Vec<String> = DEFAULT_FIELDS.iter().map(|s| s.to_string()).collect();
    let mut columns = Columns::from_fields(&default);
    let mut sessions: Vec<Session> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut csv = csv_core::Reader::new();
    let mut fields: Vec<String> = Vec::new();
    for i in 0..lines.lines.len() {
        if lines.taken[i] {
            continue;
        }
        let line = lines.lines[i].trim();
        if let Some(rest) = line.strip_prefix("#Fields:") {
            let fields: Vec<String> = rest
                .split(',')
                .map(|f| f.trim().to_ascii_lowercase())
                .collect();
            columns = Columns::from_fields(&fields);
            lines.taken[i] = true;
            continue;
        }
        if ["#Software:", "#Version:", "#Log-type:", "#Date:"]
            .iter()
            .any(|p| line.starts_with(p))
        {
            lines.taken[i] = true;
            continue;
        }
        if !LOG_LINE.is_match(line) {
            continue;
        }
        if !split_csv(&mut csv, line, &mut fields) {
            continue;
        }
        lines.taken[i] = true;
        let get = |c: Option<usize>| c.and_then(|c| fields.get(c)).map_or("", String::as_str);
        let id = match get(columns.session) {
            "" => format!("line-{i}"),
            s => s.to_owned(),
        };
        let at = *index.entry(id.clone()).or_insert_with(|| {
            sessions.push(Session {
                id,
                first_line: i + 1,
                ..Session::default()
            });
            sessions.len() - 1
        });
        let s = &mut sessions[at];
        let (data, context, event) = (get(columns.data), get(columns.context), get(columns.event));
        if s.connector.is_empty() {
            s.connector = get(columns.connector).to_owned();
        }
        if s.local_endpoint.is_empty() {
            s.local_endpoint = get(columns.local).to_owned();
        }
        if s.remote_endpoint.is_empty() {
            s.remote_endpoint = get(columns.remote).to_owned();
        }
        match (event, context) {
            (">", _) if !data.is_empty() => s.last_command = Some(data.to_owned()),
            (_, "Certificate subject") | (_, "Received certificate subject") => {
                s.certificate_subject.get_or_insert_with(|| data.to_owned());
            }
            (_, "Certificate issuer name") => {
                s.certificate_issuer.get_or_insert_with(|| data.to_owned());
            }
            (_, "Certificate thumbprint") | (_, "Received certificate") => {
                s.certificate_thumbprint
                    .get_or_insert_with(|| data.to_owned());
            }
            _ => {}
        }
        // The failure is the last line that says something failed: a TLS error, a socket
        // error, or a 4xx/5xx reply — received (`<`, a send log) or given (`>`, a receive
        // log, where our server refused the client; a client's commands never start with a
        // reply code).
        if FAILURE.is_match(context) {
            s.failure = Some((i + 1, context.to_owned()));
        } else if (matches!(event, "<" | ">") && REPLY.is_match(data)) || FAILURE.is_match(data) {
            s.failure = Some((i + 1, data.to_owned()));
        }
        let text = match (data.is_empty(), context.is_empty()) {
            (false, false) => format!("{data} ({context})"),
            (false, true) => data.to_owned(),
            (true, false) => context.to_owned(),
            (true, true) => continue,
        };
        if s.related.len() < MAX_RELATED {
            s.related.push((i + 1, text));
        }
    }
    for session in sessions {
        if let Some(f) = finding_for(session) {
            out.push(f);
        }
    }
}

/// Splits one CSV line (quoted fields, doubled quotes) into `fields` with `csv-core`, reusing
/// the reader and buffers across lines. False when the line is not complete CSV.
fn split_csv(reader: &mut csv_core::Reader, line: &str, fields: &mut Vec<String>) -> bool {
    use csv_core::ReadRecordResult;
    reader.reset();
    fields.clear();
    let mut out = vec![0u8; line.len() + 1];
    let mut ends = vec![0usize; line.len() + 2];
    let mut input = line.as_bytes();
    let (mut nout_total, mut nend_total) = (0, 0);
    loop {
        let (res, nin, nout, nend) =
            reader.read_record(input, &mut out[nout_total..], &mut ends[nend_total..]);
        input = &input[nin..];
        nout_total += nout;
        nend_total += nend;
        match res {
            ReadRecordResult::InputEmpty if input.is_empty() => {
                // Signal the end of input so the last field is finished.
                let (res, _, nout, nend) =
                    reader.read_record(&[], &mut out[nout_total..], &mut ends[nend_total..]);
                nout_total += nout;
                nend_total += nend;
                if !matches!(res, ReadRecordResult::Record) {
                    return false;
                }
                break;
            }
            ReadRecordResult::InputEmpty => continue,
            ReadRecordResult::Record => break,
            _ => return false,
        }
    }
    let mut start = 0;
    for &end in &ends[..nend_total] {
        fields.push(String::from_utf8_lossy(&out[start..end.min(nout_total)]).into_owned());
        start = end;
    }
    true
}

fn finding_for(s: Session) -> Option<Finding> {
    let (line, text) = s.failure?;
    let mut f = Finding::new(InputKind::ProtocolLog, line, text);
    f.set("session_id", &s.id);
    f.set("connector_name", &s.connector);
    f.set("local_endpoint", &s.local_endpoint);
    f.set("remote_endpoint", &s.remote_endpoint);
    if let Some(ip) = endpoint_ip(&s.remote_endpoint) {
        f.set("remote_ip", ip);
    }
    f.set("first_line", s.first_line.to_string());
    if let Some(c) = TLS_FAILED.captures(&f.diagnostic) {
        let name = c[1].to_owned();
        f.set("tls_error", name);
    }
    for (key, value) in [
        ("last_command", &s.last_command),
        ("certificate_subject", &s.certificate_subject),
        ("certificate_issuer", &s.certificate_issuer),
        ("certificate_thumbprint", &s.certificate_thumbprint),
    ] {
        if let Some(v) = value {
            f.set(key, v);
        }
    }
    // The failure itself is the diagnostic; the other lines may say why.
    f.related = s
        .related
        .into_iter()
        .filter(|(l, _)| *l != line)
        .map(|(_, t)| t)
        .collect();
    Some(f)
}

/// The IP of an `ip:port` or `[v6]:port` endpoint.
fn endpoint_ip(endpoint: &str) -> Option<&str> {
    let e = endpoint.trim();
    if let Some(rest) = e.strip_prefix('[') {
        return rest.split(']').next();
    }
    match e.rsplit_once(':') {
        Some((ip, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !ip.contains(':') => {
            Some(ip)
        }
        Some((ip, port)) if port.bytes().all(|b| b.is_ascii_digit()) => Some(ip),
        _ if !e.is_empty() => Some(e),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_their_commas_and_quotes() {
        let mut r = csv_core::Reader::new();
        let mut f = Vec::new();
        let line = r#"2026-11-25T09:14:02.020Z,Outbound,08DE,4,192.0.2.10:41877,203.0.113.25:25,*,"CN=mx, O=""Fabrikam""",Certificate subject"#;
        assert!(split_csv(&mut r, line, &mut f));
        assert_eq!(f.len(), 9);
        assert_eq!(f[7], r#"CN=mx, O="Fabrikam""#);
        assert_eq!(f[8], "Certificate subject");
        // The reader is reused: a second line parses on its own.
        assert!(split_csv(
            &mut r,
            "2026-11-25T09:14:02Z,a,b,1,,,-,,Local",
            &mut f
        ));
        assert_eq!(f[8], "Local");
    }

    #[test]
    fn endpoints() {
        assert_eq!(endpoint_ip("203.0.113.25:25"), Some("203.0.113.25"));
        assert_eq!(endpoint_ip("[2001:db8::1]:25"), Some("2001:db8::1"));
    }
}
