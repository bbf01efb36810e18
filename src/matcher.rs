//! Findings → ranked entry matches, each with its evidence and captured values.
//!
//! Candidates come from codes, vendor tokens and patterns. A pattern on the error text beats
//! a token, a token beats a bare code; the innermost link of a chain is the root cause, so hits
//! on deeper links score higher, and entries that only describe a consequence (expired) or
//! carry another error (4.4.397) rank below the root cause. Lines that say *why* (a protocol
//! log session tied to the error) are read as deeper than every link.

use std::collections::BTreeMap;

use crate::codes::CodeQuery;
use crate::input::Finding;
use crate::kb::{KnowledgeBase, Loaded, PatternRole, Role};

/// One entry that explains a finding.
#[derive(Debug, Clone)]
pub struct Match<'kb> {
    /// The entry.
    pub entry: &'kb Loaded,
    /// 0–1; higher is a better explanation.
    pub score: f64,
    /// Which text matched what.
    pub evidence: Vec<String>,
    /// Values captured by the entry's patterns, plus the finding's context.
    pub captures: BTreeMap<String, String>,
    /// Indices into `entry.causes`, most likely first given the evidence.
    pub cause_order: Vec<usize>,
}

/// A text of the finding and how deep it sits: links are 0..n, the whole diagnostic is read
/// as the outermost link, the protocol log's error for the same host is deeper than every link
/// (it says why the link failed), and the other related lines deeper still.
struct Text<'a> {
    text: &'a str,
    lower: String,
    depth: usize,
    label: String,
}

fn texts(f: &Finding) -> (Vec<Text<'_>>, usize) {
    let mut out = Vec::new();
    let n = f.chain.len().max(1);
    let label_of = |i: usize| {
        if f.chain.len() > 1 {
            format!("link {} of {}", i + 1, f.chain.len())
        } else {
            "the error".to_owned()
        }
    };
    for (i, l) in f.chain.iter().enumerate() {
        out.push(Text {
            text: &l.text,
            lower: l.text.to_lowercase(),
            depth: i,
            label: label_of(i),
        });
    }
    out.push(Text {
        text: &f.diagnostic,
        lower: f.diagnostic.to_lowercase(),
        depth: 0,
        label: "the error".into(),
    });
    if let Some(e) = f.context.get("log_error") {
        out.push(Text {
            text: e,
            lower: e.to_lowercase(),
            depth: n,
            label: "the protocol log".into(),
        });
    }
    for r in &f.related {
        out.push(Text {
            text: r,
            lower: r.to_lowercase(),
            depth: n + 1,
            label: "a related log line".into(),
        });
    }
    (out, n + 1)
}

/// Ranks every entry that matches `finding`, best first.
pub fn match_finding<'kb>(kb: &'kb KnowledgeBase, finding: &Finding) -> Vec<Match<'kb>> {
    let (texts, n) = texts(finding);
    let joined: String = texts.iter().map(|t| t.text).collect::<Vec<_>>().join("\n");
    let candidates = kb.candidates(&joined);
    let mut out: Vec<(Match<'kb>, Rank)> = Vec::new();
    for (e, loaded) in kb.entries().iter().enumerate() {
        let first = candidates.patterns.partition_point(|&(ce, _)| ce < e);
        let patterns: Vec<usize> = candidates.patterns[first..]
            .iter()
            .take_while(|&&(ce, _)| ce == e)
            .map(|&(_, i)| i)
            .collect();
        let token = candidates.tokens.binary_search(&e).is_ok();
        if patterns.is_empty() && !token && loaded.needs_text_hit() {
            continue;
        }
        if let Some(m) = match_entry(loaded, finding, &texts, n, &patterns) {
            out.push(m);
        }
    }
    out.sort_by(|(a, ra), (b, rb)| rb.cmp(ra).then_with(|| a.entry.id.cmp(&b.entry.id)));
    // Scores are shown to people and scripts: keep them in rank order.
    let mut cap = 1.0f64;
    out.into_iter()
        .map(|(mut m, _)| {
            m.score = m.score.min(cap);
            cap = (m.score - 0.01).max(0.01);
            m
        })
        .collect()
}

/// The ranking key of a match, compared field by field.
#[derive(Debug, Clone, Copy)]
struct Rank {
    is_cause: bool,
    depth: usize,
    weight: f64,
    code_bonus: bool,
    hits: usize,
}

impl Rank {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.is_cause, self.depth)
            .cmp(&(other.is_cause, other.depth))
            .then(self.weight.total_cmp(&other.weight))
            .then((self.code_bonus, self.hits).cmp(&(other.code_bonus, other.hits)))
    }
}

/// The best code agreement between an entry's codes and the finding's links.
fn code_hit(loaded: &Loaded, finding: &Finding) -> Option<(f64, usize, String)> {
    let mut best: Option<(f64, usize, String)> = None;
    for (i, link) in finding.chain.iter().enumerate() {
        for c in &loaded.codes {
            let weight = code_weight(c, link.reply_code, link.status);
            if weight > 0.0 && best.as_ref().is_none_or(|b| (weight, i) > (b.0, b.1)) {
                let shown = [
                    c.reply.map(|r| r.to_string()),
                    c.status.map(|s| s.to_string()),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
                best = Some((weight, i, shown));
            }
        }
    }
    best
}

fn code_weight(
    c: &CodeQuery,
    reply: Option<u16>,
    status: Option<crate::codes::EnhancedCode>,
) -> f64 {
    match (c.reply, c.status) {
        (Some(r), Some(s)) if status == Some(s) && reply == Some(r) => 0.45,
        (Some(_), Some(s)) if status == Some(s) => 0.4,
        (None, Some(s)) if status == Some(s) => 0.4,
        (Some(r), None) if reply == Some(r) && status.is_none() => 0.2,
        _ => 0.0,
    }
}

fn match_entry<'kb>(
    loaded: &'kb Loaded,
    finding: &Finding,
    texts: &[Text<'_>],
    n: usize,
    patterns: &[usize],
) -> Option<(Match<'kb>, Rank)> {
    let mut evidence = Vec::new();
    let mut text_hit: Option<(f64, usize)> = None;
    let mut hits = 0usize;
    let mut hinted: Vec<&str> = Vec::new();
    let mut captures = BTreeMap::new();
    for p in patterns.iter().map(|&i| &loaded.patterns[i]) {
        let mut found = false;
        for t in texts {
            // The regex runs only where one of its literal prefixes occurs.
            if let Some(ps) = &p.prefixes
                && !ps.iter().any(|lit| t.lower.contains(lit.as_str()))
            {
                continue;
            }
            let Some(hit) = p.find(t.text) else {
                continue;
            };
            for (name, v) in &hit.named {
                captures
                    .entry(name.clone())
                    .or_insert_with(|| v.trim().to_owned());
            }
            if p.role == PatternRole::Match {
                let whole = hit.whole.as_str();
                if !found {
                    evidence.push(format!(
                        "pattern '{}' matched \"{}\" in {}",
                        p.source,
                        clip(whole),
                        t.label
                    ));
                }
                if text_hit.is_none_or(|(w, d)| (0.55, t.depth) > (w, d)) {
                    text_hit = Some((0.55, t.depth));
                }
                hits += 1;
            }
            if let Some(c) = &p.cause
                && !hinted.contains(&c.as_str())
            {
                hinted.push(c);
                if p.role == PatternRole::Context {
                    evidence.push(format!(
                        "\"{}\" in {} points at cause '{c}'",
                        clip(&hit.whole),
                        t.label
                    ));
                }
            }
            found = true;
        }
    }
    for tok in &loaded.tokens {
        if let Some(t) = texts
            .iter()
            .filter(|t| t.lower.contains(tok.as_str()))
            .max_by_key(|t| t.depth)
        {
            evidence.push(format!("token '{tok}' found in {}", t.label));
            if text_hit.is_none_or(|(w, d)| (0.5, t.depth) > (w, d)) {
                text_hit = Some((0.5, t.depth));
            }
            hits += 1;
        }
    }
    let code = code_hit(loaded, finding);
    let (base, depth) = match (text_hit, &code) {
        (Some((w, d)), _) => (w, d),
        (None, Some((w, d, _))) if !loaded.needs_text_hit() => (*w, *d),
        _ => return None,
    };
    let code_bonus = code.is_some() && text_hit.is_some();
    if let Some((_, _, shown)) = &code {
        evidence.push(format!("code {shown} is one of this entry's codes"));
        hits += 1;
    }
    let is_cause = loaded.role == Role::Cause;
    // Rank: a root cause before a consequence or wrapper, then the deepest evidence, then the
    // strongest kind of evidence, then codes agreeing too, then the number of hits.
    let rank = Rank {
        is_cause,
        depth,
        weight: base,
        code_bonus,
        hits,
    };
    let mut score =
        if is_cause { 0.5 } else { 0.25 } + 0.3 * depth as f64 / n as f64 + 0.25 * base / 0.55;
    if code_bonus {
        score += 0.05;
    }
    let score = (score.clamp(0.01, 0.99) * 100.0).round() / 100.0;
    for (k, v) in &finding.context {
        captures.entry(k.clone()).or_insert_with(|| v.clone());
    }
    if let Some(r) = &finding.recipient {
        captures
            .entry("recipient".into())
            .or_insert_with(|| r.clone());
        if let Some((_, domain)) = r.rsplit_once('@') {
            captures
                .entry("domain".into())
                .or_insert_with(|| domain.to_owned());
        }
    }
    let causes = &loaded.entry().causes;
    let mut cause_order: Vec<usize> = hinted
        .iter()
        .filter_map(|h| causes.iter().position(|c| c.id == *h))
        .collect();
    for i in 0..causes.len() {
        if !cause_order.contains(&i) {
            cause_order.push(i);
        }
    }
    Some((
        Match {
            entry: loaded,
            score,
            evidence,
            captures,
            cause_order,
        },
        rank,
    ))
}

fn clip(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(119).collect::<String>())
    } else {
        s.to_owned()
    }
}
