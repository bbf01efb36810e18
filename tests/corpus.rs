//! Accuracy against real bounces: `ndr scan` over `../shared/corpus/sisimai/eml` compared with
//! the reference labels in `expected.jsonl` (recipient, reason, status). Skips, saying so, when
//! the corpus is absent (a fresh clone has no `../shared`). Prints category agreement, failed
//! recipients found and extra ones reported, exact status agreement, and the disagreements
//! grouped by (expected, ours). The floors guard against regressions; raise them as accuracy
//! improves.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use ndr::kb::KnowledgeBase;

/// Regression floors (fractions of the labelled recipients).
const MIN_FOUND: f64 = 0.92;
const MIN_CATEGORY: f64 = 0.58;
const MIN_STATUS: f64 = 0.92;

#[derive(serde::Deserialize)]
struct Expected {
    file: String,
    parsed: bool,
    reason: Option<String>,
    recipient: Option<String>,
    status: Option<String>,
}

#[test]
fn sisimai_corpus_accuracy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sisimai");
    let Ok(labels) = std::fs::read_to_string(root.join("expected.jsonl")) else {
        eprintln!("corpus evaluation skipped: {} not found", root.display());
        return;
    };
    let expected: Vec<Expected> = labels
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kb = KnowledgeBase::embedded().unwrap();

    // file -> [(recipient, category, status)]
    let mut ours: HashMap<String, Vec<(String, String, Option<String>)>> = HashMap::new();
    let mut inputs = 0;
    let mut errors = Vec::new();
    ndr::scan::scan(&kb, &[root.join("eml")], 64, |o| {
        inputs += 1;
        let file = format!(
            "eml/{}",
            Path::new(&o.source).file_name().unwrap().to_string_lossy()
        );
        match o.result {
            Ok(findings) => {
                let v = ours.entry(file).or_default();
                for f in findings {
                    v.push((
                        f.recipient.unwrap_or_default().to_lowercase(),
                        f.category,
                        f.status,
                    ));
                }
            }
            Err(e) => errors.push(format!("{file}: {e}")),
        }
    });

    let labelled: Vec<&Expected> = expected
        .iter()
        .filter(|e| e.parsed && e.recipient.is_some())
        .collect();
    let mut found = 0;
    let mut category_ok = 0;
    let mut status_total = 0;
    let mut status_ok = 0;
    let mut confusion: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut examples: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for e in &labelled {
        let want = e.recipient.as_deref().unwrap().to_lowercase();
        let reason = e.reason.clone().unwrap_or_else(|| "undefined".into());
        let got = ours
            .get(&e.file)
            .and_then(|v| v.iter().find(|(r, _, _)| *r == want));
        let Some((_, category, status)) = got else {
            *confusion
                .entry((reason.clone(), "(not found)".into()))
                .or_default() += 1;
            examples
                .entry((reason, "(not found)".into()))
                .or_default()
                .push(e.file.clone());
            continue;
        };
        found += 1;
        if *category == reason {
            category_ok += 1;
        } else {
            *confusion
                .entry((reason.clone(), category.clone()))
                .or_default() += 1;
            examples
                .entry((reason, category.clone()))
                .or_default()
                .push(e.file.clone());
        }
        if let Some(s) = &e.status {
            status_total += 1;
            if status.as_deref() == Some(s.as_str()) {
                status_ok += 1;
            }
        }
    }
    // Per sender (the file name without its number): labelled, found, category agreement.
    let mut vendors: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for e in &labelled {
        let name = e.file.trim_start_matches("eml/").trim_end_matches(".eml");
        let vendor = name.rsplit_once('-').map_or(name, |(v, _)| v).to_owned();
        let want = e.recipient.as_deref().unwrap().to_lowercase();
        let reason = e.reason.clone().unwrap_or_else(|| "undefined".into());
        let got = ours
            .get(&e.file)
            .and_then(|v| v.iter().find(|(r, _, _)| *r == want));
        let row = vendors.entry(vendor).or_default();
        row.0 += 1;
        if let Some((_, c, _)) = got {
            row.1 += 1;
            if *c == reason {
                row.2 += 1;
            }
        }
    }
    let mut extra = 0;
    for (file, v) in &ours {
        let wanted: Vec<String> = expected
            .iter()
            .filter(|e| &e.file == file)
            .filter_map(|e| e.recipient.as_ref().map(|r| r.to_lowercase()))
            .collect();
        extra += v.iter().filter(|(r, _, _)| !wanted.contains(r)).count();
    }
    let n = labelled.len() as f64;
    let pct = |a: usize, b: f64| if b > 0.0 { 100.0 * a as f64 / b } else { 0.0 };
    eprintln!(
        "corpus: {} messages read, {} unreadable",
        inputs,
        errors.len()
    );
    for e in &errors {
        eprintln!("  unreadable: {e}");
    }
    eprintln!("labelled recipients: {}", labelled.len());
    eprintln!("failed recipients found:  {found} ({:.1}%)", pct(found, n));
    eprintln!("extra recipients reported: {extra}");
    eprintln!(
        "category agreement:        {category_ok} ({:.1}% of labelled, {:.1}% of found)",
        pct(category_ok, n),
        pct(category_ok, found as f64)
    );
    eprintln!(
        "exact status agreement:    {status_ok} of {status_total} ({:.1}%)",
        pct(status_ok, status_total as f64)
    );
    let mut rows: Vec<_> = confusion.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    eprintln!("disagreements (expected -> ours: count, examples):");
    for ((want, got), count) in rows {
        let ex = &examples[&(want.clone(), got.clone())];
        eprintln!(
            "  {want:>15} -> {got:<15} {count:>4}  {}",
            ex.iter().take(3).cloned().collect::<Vec<_>>().join(" ")
        );
    }
    eprintln!("per sender (labelled / found / category agrees), weakest first:");
    let mut rows: Vec<_> = vendors.into_iter().collect();
    rows.sort_by(|a, b| {
        let score = |r: &(usize, usize, usize)| (r.1 + r.2) as f64 / (2 * r.0) as f64;
        score(&a.1).total_cmp(&score(&b.1)).then(a.0.cmp(&b.0))
    });
    for (v, (n, f, c)) in rows.iter().take(25) {
        eprintln!("  {v:<28} {n:>3} {f:>3} {c:>3}");
    }
    assert_eq!(inputs, 423, "every message of the corpus is read");
    assert!(
        found as f64 / n >= MIN_FOUND,
        "recipients found fell below {MIN_FOUND}"
    );
    assert!(
        category_ok as f64 / n >= MIN_CATEGORY,
        "category agreement fell below {MIN_CATEGORY}"
    );
    assert!(
        status_ok as f64 / status_total.max(1) as f64 >= MIN_STATUS,
        "status agreement fell below {MIN_STATUS}"
    );
}
