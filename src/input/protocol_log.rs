//! Exchange SMTP send/receive protocol logs (CSV, with or without the `#Fields:` header),
//! read per session: a failing session is one finding carrying its connector, endpoints,
//! last command, certificate lines and the failure text.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::{Finding, InputKind, Lines};

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

struct Session {
    first_line: usize,
    rows: Vec<(usize, HashMap<String, String>)>,
}

pub(super) fn read(lines: &mut Lines<'_>, out: &mut Vec<Finding>) {
    let mut fields: Vec<String> = DEFAULT_FIELDS.iter().map(|s| s.to_string()).collect();
    let mut sessions: Vec<(String, Session)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for i in 0..lines.lines.len() {
        if lines.taken[i] {
            continue;
        }
        let line = lines.lines[i].trim();
        if let Some(rest) = line.strip_prefix("#Fields:") {
            fields = rest
                .split(',')
                .map(|f| f.trim().to_ascii_lowercase())
                .collect();
            lines.taken[i] = true;
            continue;
        }
        if line.starts_with('#')
            && (line.starts_with("#Software:")
                || line.starts_with("#Version:")
                || line.starts_with("#Log-type:")
                || line.starts_with("#Date:"))
        {
            lines.taken[i] = true;
            continue;
        }
        if !LOG_LINE.is_match(line) {
            continue;
        }
        let Some(values) = parse_csv_line(line) else {
            continue;
        };
        lines.taken[i] = true;
        let row: HashMap<String, String> = fields.iter().cloned().zip(values).collect();
        let session_id = row
            .get("session-id")
            .cloned()
            .unwrap_or_else(|| format!("line-{i}"));
        let at = *index.entry(session_id.clone()).or_insert_with(|| {
            sessions.push((
                session_id.clone(),
                Session {
                    first_line: i + 1,
                    rows: Vec::new(),
                },
            ));
            sessions.len() - 1
        });
        sessions[at].1.rows.push((i + 1, row));
    }
    for (id, session) in sessions {
        if let Some(f) = finding_for(&id, &session) {
            out.push(f);
        }
    }
}

/// Parses one CSV record with the `csv` crate (quoted fields with commas, doubled quotes).
fn parse_csv_line(line: &str) -> Option<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let record = reader.records().next()?.ok()?;
    Some(record.iter().map(str::to_owned).collect())
}

fn finding_for(session_id: &str, session: &Session) -> Option<Finding> {
    let get = |row: &HashMap<String, String>, k: &str| row.get(k).cloned().unwrap_or_default();
    // The failure is the last line that says something failed: a TLS error, a socket error,
    // or a 4xx/5xx reply received from the other side.
    let failure = session.rows.iter().rev().find_map(|(line, row)| {
        let context = get(row, "context");
        let data = get(row, "data");
        let event = get(row, "event");
        if FAILURE.is_match(&context) {
            Some((*line, context))
        } else if (event == "<" && REPLY.is_match(&data)) || FAILURE.is_match(&data) {
            Some((*line, data))
        } else {
            None
        }
    })?;
    let mut f = Finding::new(InputKind::ProtocolLog, failure.0, failure.1);
    let first = &session.rows[0].1;
    f.set("session_id", session_id);
    f.set("connector_name", get(first, "connector-id"));
    f.set("local_endpoint", get(first, "local-endpoint"));
    let remote = get(first, "remote-endpoint");
    f.set("remote_endpoint", &remote);
    if let Some(ip) = endpoint_ip(&remote) {
        f.set("remote_ip", ip);
    }
    f.set("first_line", session.first_line.to_string());
    if let Some(c) = TLS_FAILED.captures(&f.diagnostic) {
        let name = c[1].to_owned();
        f.set("tls_error", name);
    }
    for (line, row) in &session.rows {
        let data = get(row, "data");
        let context = get(row, "context");
        match (get(row, "event").as_str(), context.as_str()) {
            (">", _) if !data.is_empty() => {
                f.context.insert("last_command".into(), data.clone());
            }
            (_, "Certificate subject") | (_, "Received certificate subject") => {
                f.set("certificate_subject", &data)
            }
            (_, "Certificate issuer name") => f.set("certificate_issuer", &data),
            (_, "Certificate thumbprint") | (_, "Received certificate") => {
                f.set("certificate_thumbprint", &data)
            }
            _ => {}
        }
        let text = match (data.is_empty(), context.is_empty()) {
            (false, false) => format!("{data} ({context})"),
            (false, true) => data,
            (true, false) => context,
            (true, true) => continue,
        };
        // The failure itself is the diagnostic; the other lines may say why.
        if *line != f.line {
            f.related.push(text);
        }
    }
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
