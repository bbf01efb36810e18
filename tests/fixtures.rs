//! Whole realistic inputs in `tests/fixtures/<kind>/<case>.{txt,eml}`: a header naming the
//! expected entry (`expect: <id>` or `expect: none`), optionally the expected `category:` of
//! the first finding and the `recipients:` of all findings, a `---` line, then the raw input.
//! Adding a case means adding a file. Each is auto-detected as its folder's kind, explained
//! with the embedded knowledge base, and its rendered explanation is snapshotted.

use std::path::Path;

use ndr::explain::explain;
use ndr::input::read;
use ndr::kb::KnowledgeBase;
use ndr::render::{Format, Renderer};

/// A fixture's header.
struct Header {
    expect: String,
    category: Option<String>,
    recipients: Option<Vec<String>>,
}

fn split(path: &Path) -> (Header, String) {
    let raw = std::fs::read_to_string(path).unwrap();
    let (header, body) = raw
        .split_once("\n---\n")
        .expect("fixture needs a `---` line");
    let get = |key: &str| {
        header
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_owned())
    };
    let h = Header {
        expect: get("expect:").expect("fixture header needs `expect:`"),
        category: get("category:"),
        recipients: get("recipients:").map(|r| r.split(',').map(|a| a.trim().to_owned()).collect()),
    };
    (h, body.to_owned())
}

#[test]
fn fixtures_name_the_expected_root_cause_first() {
    let kb = KnowledgeBase::embedded().unwrap();
    let renderer = Renderer::new(false);
    let mut failures = Vec::new();
    let mut count = 0;
    insta::glob!("fixtures/*/*.{txt,eml}", |path| {
        count += 1;
        let (header, body) = split(path);
        let kind = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let reading = read(body.as_bytes(), "fixture", None).unwrap();
        let e = explain(&kb, &reading);
        let top = e
            .findings
            .iter()
            .find_map(|f| f.matches.first())
            .map(|m| m.id.clone());
        match (header.expect.as_str(), &top) {
            ("none", None) => {}
            ("none", Some(t)) => {
                failures.push(format!("{kind}/{name}: expected no match, got {t}"))
            }
            (want, Some(t)) if t == want => {}
            (want, got) => failures.push(format!("{kind}/{name}: expected {want}, got {got:?}")),
        }
        if let Some(c) = &header.category {
            let got: Vec<&str> = e.findings.iter().map(|f| f.category.as_str()).collect();
            if got.first() != Some(&c.as_str()) {
                failures.push(format!("{kind}/{name}: expected category {c}, got {got:?}"));
            }
        }
        if let Some(want) = &header.recipients {
            let got: Vec<String> = e
                .findings
                .iter()
                .filter_map(|f| f.recipient.clone())
                .collect();
            if &got != want {
                failures.push(format!(
                    "{kind}/{name}: expected recipients {want:?}, got {got:?}"
                ));
            }
        }
        // The input is read by the reader of the folder's kind (mixed pastes aside).
        if !name.starts_with("mixed") && !e.findings.is_empty() && e.input_kind != kind {
            failures.push(format!("{kind}/{name}: read as {}", e.input_kind));
        }
        insta::assert_snapshot!(renderer.explanation(&e, Format::Text).unwrap());
    });
    assert!(count >= 25, "only {count} fixtures");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
