//! The [`Explanation`]: findings with their ranked matches, causes and fixes, placeholders
//! filled with captured values. Templates receive this value and JSON is serde of it, so the
//! two never disagree (DESIGN.md §7).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::codes;
use crate::input::{Finding, Link, Reading};
use crate::kb::{Cause, KnowledgeBase, Reference, Step};
use crate::matcher::{self, Match};

/// What `ndr explain` says about one input.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The kind of input read (`get-queue`, `ndr-text`, … or `mixed`).
    pub input_kind: String,
    /// One per delivery error found.
    pub findings: Vec<FindingReport>,
}

/// One finding and how it is explained.
#[derive(Debug, Clone, Serialize)]
pub struct FindingReport {
    /// Path or `-`.
    pub source: String,
    /// Message index within the source.
    pub message: usize,
    /// The failed recipient.
    pub recipient: Option<String>,
    /// Outermost reply code, as text.
    pub reply_code: Option<String>,
    /// Outermost enhanced code.
    pub status: Option<String>,
    /// Best match's category, or derived from the codes.
    pub category: String,
    /// Whether retrying the same message can help.
    pub permanent: bool,
    /// The raw error text.
    pub diagnostic: String,
    /// Links, outermost first.
    pub chain: Vec<Link>,
    /// Values read around the error.
    pub context: BTreeMap<String, String>,
    /// Ranked explanations; `matches[0]` is the best.
    pub matches: Vec<MatchReport>,
    /// What the codes mean by the RFCs, for every finding (the only explanation when nothing
    /// matched).
    pub meaning: Meaning,
}

/// RFC meanings of a finding's codes.
#[derive(Debug, Clone, Serialize)]
pub struct Meaning {
    /// RFC 5321 meaning of the reply code.
    pub reply: Option<String>,
    /// RFC 3463 class meaning.
    pub class: Option<String>,
    /// RFC 3463 subject meaning.
    pub subject: Option<String>,
    /// Registered detail meaning (RFC 3463 / RFC 5248 registry).
    pub detail: Option<String>,
}

/// One entry explaining a finding.
#[derive(Debug, Clone, Serialize)]
pub struct MatchReport {
    /// Entry id.
    pub id: String,
    /// Entry title.
    pub title: String,
    /// 0–1.
    pub score: f64,
    /// `cause`, `consequence` or `wrapper`.
    pub role: String,
    /// The entry's category.
    pub category: String,
    /// What the error means.
    pub summary: String,
    /// Why this entry was chosen.
    pub evidence: Vec<String>,
    /// Causes, most likely first.
    pub causes: Vec<Cause>,
    /// Fixes with placeholders filled where values are known.
    pub fixes: Vec<FixReport>,
    /// When this entry is not the answer.
    pub known_problems: Option<String>,
    /// Sources.
    pub references: Vec<Reference>,
    /// Captured values.
    pub captures: BTreeMap<String, String>,
}

/// A fix with filled steps.
#[derive(Debug, Clone, Serialize)]
pub struct FixReport {
    /// What the fix achieves.
    pub title: String,
    /// Causes it addresses.
    pub causes: Vec<String>,
    /// Steps in order.
    pub steps: Vec<Step>,
}

/// Reads nothing; explains a reading with the knowledge base.
pub fn explain(kb: &KnowledgeBase, reading: &Reading) -> Explanation {
    Explanation {
        input_kind: reading.kind.clone(),
        findings: reading
            .findings
            .iter()
            .map(|f| report(kb, f))
            // Free text is a finding only when an entry recognises it.
            .filter(|r| {
                !(r.matches.is_empty()
                    && reading.findings.len() == 1
                    && reading.findings[0].kind == crate::input::InputKind::Text)
            })
            .collect(),
    }
}

/// Explains one finding.
pub fn report(kb: &KnowledgeBase, f: &Finding) -> FindingReport {
    let matches: Vec<MatchReport> = matcher::match_finding(kb, f)
        .iter()
        .map(match_report)
        .collect();
    let category = match f.context.get("report").map(String::as_str) {
        Some("feedback") => "feedback".to_owned(),
        Some("auto-reply") => "vacation".to_owned(),
        // A root-cause entry decides; an entry that only wraps or follows from another error
        // decides only when neither a specific code nor the wording says more.
        _ => matches
            .iter()
            .find(|m| m.role == "cause")
            .map(|m| m.category.clone())
            .or_else(|| specific_category(f).map(str::to_owned))
            .or_else(|| crate::reasons::classify(&f.diagnostic).map(str::to_owned))
            .or_else(|| {
                matches
                    .first()
                    .map(|m| m.category.clone())
                    .filter(|c| c != "undefined")
            })
            .unwrap_or_else(|| category_from_codes(f).to_owned()),
    };
    // Final when either code says so (`550 4.4.7 QUEUE.Expired` ends delivery even though the
    // enhanced class is 4), unless the report says delivery is still being attempted.
    let delayed = f
        .context
        .get("action")
        .is_some_and(|a| a.eq_ignore_ascii_case("delayed"));
    let permanent = !delayed
        && (f.reply_code.is_some_and(|r| r >= 500) || f.status.is_some_and(|s| s.is_permanent()));
    let meaning = Meaning {
        reply: f.reply_code.map(|r| codes::reply_meaning(r).to_owned()),
        class: f.status.map(|s| codes::class_meaning(s.class).to_owned()),
        subject: f
            .status
            .map(|s| codes::subject_meaning(s.subject).to_owned()),
        detail: f
            .status
            .and_then(|s| codes::detail_meaning(s.subject, s.detail))
            .map(str::to_owned),
    };
    let mut context = f.context.clone();
    context.insert("line".into(), f.line.to_string());
    FindingReport {
        source: f.source.clone(),
        message: f.message,
        recipient: f.recipient.clone(),
        reply_code: f.reply_code.map(|r| r.to_string()),
        status: f.status.map(|s| s.to_string()),
        category,
        permanent,
        diagnostic: f.diagnostic.clone(),
        chain: f.chain.clone(),
        context,
        matches,
        meaning,
    }
}

fn match_report(m: &Match<'_>) -> MatchReport {
    let e = m.entry.entry();
    MatchReport {
        id: e.id.clone(),
        title: e.title.clone(),
        score: m.score,
        role: format!("{:?}", e.role).to_lowercase(),
        category: e.category.clone(),
        summary: e.summary.trim().to_owned(),
        evidence: m.evidence.clone(),
        causes: m.cause_order.iter().map(|&i| e.causes[i].clone()).collect(),
        fixes: e
            .fixes
            .iter()
            .map(|fx| FixReport {
                title: fx.title.clone(),
                causes: fx.causes.clone(),
                steps: fx
                    .steps
                    .iter()
                    .map(|s| Step {
                        action: fill(&s.action, &m.captures),
                        command: s.command.as_deref().map(|c| fill(c, &m.captures)),
                        shell: s.shell.clone(),
                        expect: s.expect.as_deref().map(|c| fill(c, &m.captures)),
                        who: s.who.clone(),
                    })
                    .collect(),
            })
            .collect(),
        known_problems: e.known_problems.as_ref().map(|k| k.trim().to_owned()),
        references: e.references.clone(),
        captures: m.captures.clone(),
    }
}

static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<([A-Z][A-Za-z0-9]*)>").unwrap());

/// Replaces `<PascalCase>` placeholders with the captured value named in snake_case.
pub fn fill(text: &str, captures: &BTreeMap<String, String>) -> String {
    PLACEHOLDER
        .replace_all(text, |c: &regex::Captures<'_>| {
            let key = snake_case(&c[1]);
            captures
                .get(&key)
                .cloned()
                .unwrap_or_else(|| c[0].to_owned())
        })
        .into_owned()
}

/// `ConnectorName` → `connector_name`, `RemoteIp` → `remote_ip`, `FQDN` → `fqdn`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let boundary = i > 0
            && c.is_ascii_uppercase()
            && (chars[i - 1].is_ascii_lowercase()
                || chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase())
                    && chars[i - 1].is_ascii_uppercase());
        if boundary {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The category of an enhanced code whose detail says exactly what happened (a moved mailbox,
/// a full one, an expired message); such a code outweighs the words around it. `None` for
/// codes whose meaning depends on the text (X.0.0, X.7.1 and the like).
pub fn specific_category(f: &Finding) -> Option<&'static str> {
    let s = f.status?;
    matches!(
        (s.subject, s.detail),
        (1, 1)
            | (1, 2)
            | (1, 6)
            | (1, 7)
            | (1, 8)
            | (1, 10)
            | (2, 2)
            | (2, 3)
            | (3, 4)
            | (4, 7)
            | (7, 25)
    )
    .then(|| category_from_codes(f))
}

/// A category when no entry matched, from the codes alone.
pub fn category_from_codes(f: &Finding) -> &'static str {
    let Some(s) = f.status else {
        return match f.reply_code {
            Some(421) => "networkerror",
            Some(452) | Some(552) => "mailboxfull",
            Some(530) | Some(535) => "authfailure",
            Some(550) | Some(551) | Some(553) => "rejected",
            Some(554) => "rejected",
            _ => "undefined",
        };
    };
    match (s.subject, s.detail) {
        (1, 1) => "userunknown",
        (1, 6) => "hasmoved",
        (1, 10) => "notaccept",
        (1, 2) => "hostunknown",
        (1, 3) => "syntaxerror",
        (1, 7) | (1, 8) => "rejected",
        (1, _) => "rejected",
        (2, 1) => "suspend",
        (2, 2) => "mailboxfull",
        (2, 3) | (3, 4) => "mesgtoobig",
        (2, _) => "mailboxfull",
        (3, 1) => "systemfull",
        (3, _) => "systemerror",
        (4, 7) => "expired",
        (4, 6) => "networkerror",
        (4, 4) => "hostunknown",
        (4, _) => "networkerror",
        (5, 3) => "exceedlimit",
        (5, _) => "syntaxerror",
        (6, _) => "contenterror",
        (7, 1) => "rejected",
        (7, 8) | (7, 9) | (7, 11) | (7, 12) | (7, 13) => "authfailure",
        (7, 25) => "requireptr",
        (7, 23..=27) | (7, 20..=22) => "authfailure",
        (7, 28) => "ratelimited",
        (7, _) => "securityerror",
        _ => "undefined",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_from_snake_case_captures() {
        let mut c = BTreeMap::new();
        c.insert(
            "connector_name".to_owned(),
            "Outbound to Internet".to_owned(),
        );
        c.insert("remote_ip".to_owned(), "203.0.113.25".to_owned());
        assert_eq!(
            fill(
                r#"Get-SendConnector "<ConnectorName>"; Test-NetConnection <RemoteIp> -Port 25 <Unknown>"#,
                &c
            ),
            r#"Get-SendConnector "Outbound to Internet"; Test-NetConnection 203.0.113.25 -Port 25 <Unknown>"#
        );
        assert_eq!(snake_case("NextHopDomain"), "next_hop_domain");
        assert_eq!(snake_case("FQDN"), "fqdn");
        assert_eq!(snake_case("RemoteIp"), "remote_ip");
    }
}
