//! Whole realistic inputs in `tests/fixtures/<kind>/<case>.txt`: a header naming the expected
//! entry (`expect: <id>` or `expect: none`), a `---` line, then the raw text. Adding a case
//! means adding a file. Each is auto-detected as its folder's kind, explained with the
//! embedded knowledge base, and its rendered explanation is snapshotted.

use std::path::Path;

use ndr::explain::explain;
use ndr::input::read;
use ndr::kb::KnowledgeBase;
use ndr::render::{Format, Renderer};

fn split(path: &Path) -> (String, String) {
    let raw = std::fs::read_to_string(path).unwrap();
    let (header, body) = raw
        .split_once("\n---\n")
        .expect("fixture needs a `---` line");
    let expect = header
        .lines()
        .find_map(|l| l.strip_prefix("expect:"))
        .expect("fixture header needs `expect:`")
        .trim()
        .to_owned();
    (expect, body.to_owned())
}

#[test]
fn fixtures_name_the_expected_root_cause_first() {
    let kb = KnowledgeBase::embedded().unwrap();
    let renderer = Renderer::new(false);
    let mut failures = Vec::new();
    let mut count = 0;
    insta::glob!("fixtures/*/*.txt", |path| {
        count += 1;
        let (expect, body) = split(path);
        let kind = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let reading = read(body.as_bytes(), "fixture", None).unwrap();
        let e = explain(&kb, &reading);
        let top = e
            .findings
            .iter()
            .find_map(|f| f.matches.first())
            .map(|m| m.id.clone());
        let name = path.file_name().unwrap().to_string_lossy();
        match (expect.as_str(), &top) {
            ("none", None) => {}
            ("none", Some(t)) => {
                failures.push(format!("{kind}/{name}: expected no match, got {t}"))
            }
            (want, Some(t)) if t == want => {}
            (want, got) => failures.push(format!("{kind}/{name}: expected {want}, got {got:?}")),
        }
        // The first finding comes from the reader of the folder's kind (mixed pastes aside).
        if !name.starts_with("mixed") && !e.findings.is_empty() {
            let first_kind = &e.input_kind;
            if first_kind != kind {
                failures.push(format!("{kind}/{name}: read as {first_kind}"));
            }
        }
        insta::assert_snapshot!(renderer.explanation(&e, Format::Text).unwrap());
    });
    assert!(count >= 15, "only {count} fixtures");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
