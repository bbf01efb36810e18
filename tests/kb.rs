//! The tidy over the embedded knowledge base: every rule, every sample, every format.
//! Fails once with the full list of problems, each as `path:line: message`.

#[test]
fn knowledge_base_is_tidy() {
    let report = ndr::kb::tidy::check(ndr::kb::embedded_files());
    assert!(report.entries >= 25, "only {} entries", report.entries);
    let problems: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// A misspelt key is reported with the file and the line it is on.
#[test]
fn misspelt_key_names_file_and_line() {
    let dir = tempdir();
    let family = dir.join("network");
    std::fs::create_dir_all(&family).unwrap();
    std::fs::write(
        family.join("site-broken.yaml"),
        "id: site-broken\ntitle: A broken entry\nsumary: misspelt\n",
    )
    .unwrap();
    let mut files = ndr::kb::embedded_files();
    files.extend(ndr::kb::files_in(&dir).unwrap());
    let report = ndr::kb::tidy::check(files);
    let p = report
        .problems
        .iter()
        .find(|p| p.path.ends_with("site-broken.yaml"))
        .expect("the broken entry is reported");
    assert_eq!(p.line, 3, "{p}");
    assert!(p.message.contains("sumary"), "{p}");
}

/// A sample that another entry explains better is reported against its own entry.
#[test]
fn sample_that_ranks_another_entry_first_is_reported() {
    let dir = tempdir();
    let family = dir.join("network");
    std::fs::create_dir_all(&family).unwrap();
    std::fs::write(
        family.join("site-weak.yaml"),
        r#"id: site-weak
title: Too generic entry
summary: Claims every 4.4.2.
category: networkerror
severity: transient
applies_to: { systems: [exchange-2019], direction: outbound }
codes: ["421 4.4.2"]
causes: [{ id: any, text: Anything. }]
fixes: [{ title: Look, causes: [any], steps: [{ action: Look at it. }] }]
references: [{ title: RFC 3463, url: "https://www.rfc-editor.org/rfc/rfc3463" }]
samples:
  match:
    - name: socket
      text: "421 4.4.2 Connection dropped due to SocketError"
  no_match:
    - name: other
      text: "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"
"#,
    )
    .unwrap();
    let mut files = ndr::kb::embedded_files();
    files.extend(ndr::kb::files_in(&dir).unwrap());
    let report = ndr::kb::tidy::check(files);
    let mine: Vec<String> = report
        .problems
        .iter()
        .filter(|p| p.path.ends_with("site-weak.yaml"))
        .map(|p| p.to_string())
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert!(
        mine[0].contains("sample 'socket'") && mine[0].contains("ranks first"),
        "{mine:?}"
    );
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "ndr-kb-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
