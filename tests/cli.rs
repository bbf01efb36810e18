//! The command line end to end: help, explain in every format, show, list, check, exit codes,
//! and bad input (binary, empty, UTF-16, CR-only, missing file, closed pipe).

mod common;

use std::io::{Read, Write};
use std::process::Stdio;

use common::{fixture_body, ndr, run};

#[test]
fn help_lists_the_commands() {
    let r = run(&["--help"], b"");
    assert_eq!(r.code, 0);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn explain_the_readme_sample() {
    let r = run(&["explain", "samples/expired-socketerror-ndr.txt"], b"");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("Root cause: Next hop dropped the SMTP session (SocketError)")
    );
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn explain_markdown() {
    let body = fixture_body("tests/fixtures/get-queue/socketerror-led-chain.txt");
    let r = run(&["explain", "-f", "markdown"], body.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout);
}

/// See: DESIGN.md §7, the JSON contract tools depend on.
#[test]
fn json_follows_the_contract() {
    let body = fixture_body("tests/fixtures/get-queue/socketerror-led-chain.txt");
    let r = run(&["explain", "--format", "json"], body.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["input_kind"], "get-queue");
    let f = &v["findings"][0];
    for key in [
        "source",
        "message",
        "recipient",
        "reply_code",
        "status",
        "category",
        "permanent",
        "diagnostic",
        "chain",
        "context",
        "matches",
    ] {
        assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
    }
    assert_eq!(f["source"], "-");
    assert_eq!(f["message"], 0);
    assert_eq!(f["reply_code"], "451");
    assert_eq!(f["status"], "4.4.397");
    assert_eq!(f["category"], "networkerror");
    assert_eq!(f["permanent"], false);
    assert_eq!(f["chain"][1]["reply_code"], "421");
    assert_eq!(f["chain"][1]["status"], "4.4.2");
    assert_eq!(f["context"]["remote_ip"], "203.0.113.25");
    assert_eq!(f["context"]["fqdn"], "mx1.fabrikam.example");
    assert_eq!(f["context"]["queue_identity"], "EX01\\1187");
    assert_eq!(f["context"]["next_hop_domain"], "fabrikam.example");
    let m = &f["matches"][0];
    assert_eq!(m["id"], "exch-4-4-2-connection-dropped-socketerror");
    for key in ["id", "title", "score", "evidence", "causes", "fixes"] {
        assert!(m.get(key).is_some(), "match lacks {key}");
    }
    assert!(m["score"].as_f64().unwrap() > 0.0 && m["score"].as_f64().unwrap() <= 1.0);
    assert!(m["causes"][0]["id"].is_string() && m["causes"][0]["text"].is_string());
    // Captured values fill the fix steps: the real queue identity, not the placeholder.
    let commands: Vec<&str> = m["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["steps"].as_array().unwrap())
        .filter_map(|s| s["command"].as_str())
        .collect();
    assert!(
        commands.iter().any(|c| c.contains("EX01\\1187")),
        "{commands:?}"
    );
    assert!(
        !commands.iter().any(|c| c.contains("<QueueIdentity>")),
        "{commands:?}"
    );
}

#[test]
fn show_accepts_every_spelling_of_a_code() {
    for q in ["5.4.300", "550 5.4.300", "#5.4.300"] {
        let r = run(&["show", q, "-f", "json"], b"");
        assert_eq!(r.code, 0, "{q}: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["id"], "exo-5-4-300-message-expired", "{q}");
    }
    let r = run(&["show", "exch-4-4-2-connection-dropped-socketerror"], b"");
    assert_eq!(r.code, 0);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn show_lists_candidates_when_ambiguous() {
    let r = run(&["show", "4.4.2"], b"");
    assert_eq!(r.code, 0);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn show_unknown_code_still_explains_it() {
    let r = run(&["show", "5.9.42"], b"");
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("Permanent failure"), "{}", r.stdout);
}

#[test]
fn unknown_code_is_explained_by_the_rfcs_and_exits_1() {
    let r = run(
        &["explain"],
        b"550 5.9.42 Something nobody has documented happened\n",
    );
    assert_eq!(r.code, 1);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn text_without_errors_says_how_to_search_and_exits_1() {
    let r = run(&["explain"], b"Hello, this is just a note.\n");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no delivery error found"), "{}", r.stderr);
    assert!(r.stderr.contains("knowledge/README.md"));
}

#[test]
fn bad_inputs_are_clear_errors() {
    let r = run(&["explain", "does/not/exist.txt"], b"");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("does/not/exist.txt: cannot read"),
        "{}",
        r.stderr
    );
    let r = run(
        &["explain"],
        &[
            0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0,
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("binary data"), "{}", r.stderr);
    let r = run(&["explain"], b"");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("the input is empty"), "{}", r.stderr);
}

/// What Windows PowerShell's `Get-Queue | fl > q.txt` writes: UTF-16 LE with a BOM and CRLF.
#[test]
fn utf16_powershell_output_is_read() {
    let body =
        fixture_body("tests/fixtures/get-queue/socketerror-led-chain.txt").replace('\n', "\r\n");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(body.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let r = run(&["explain", "-f", "json"], &bytes);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["findings"][0]["matches"][0]["id"],
        "exch-4-4-2-connection-dropped-socketerror"
    );
}

#[test]
fn cr_only_line_endings_are_read() {
    let body =
        fixture_body("tests/fixtures/ndr-text/exchange-2010-recipnotfound.txt").replace('\n', "\r");
    let r = run(&["explain", "-f", "json"], body.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["findings"][0]["matches"][0]["id"],
        "exo-5-1-1-bad-destination-mailbox"
    );
}

/// `ndr explain big | head -1` must not report an error when head closes the pipe.
#[test]
fn closed_pipe_is_not_an_error() {
    let input = "421 4.4.2 Connection dropped due to SocketError\n\n".repeat(400);
    let mut child = ndr()
        .arg("explain")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_reports_a_misspelt_key_with_file_and_line() {
    let dir = std::env::temp_dir().join(format!("ndr-cli-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("network")).unwrap();
    std::fs::write(
        dir.join("network/site-broken.yaml"),
        "id: site-broken\ntitle: A broken entry\nsumary: misspelt\n",
    )
    .unwrap();
    let d = dir.to_str().unwrap();
    let r = run(&["check", d], b"");
    assert_eq!(r.code, 1);
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("site-broken.yaml"))
        .unwrap();
    assert!(line.ends_with("site-broken.yaml:3: unknown field `sumary`, expected one of id, title, summary, category, severity, role, status, replaced_by, applies_to, codes, tokens, patterns, causes, fixes, known_problems, references, see_also, samples"), "{line}");
    // The same broken folder given to explain is an error naming the place.
    let r = run(
        &["explain", "--kb", d],
        b"421 4.4.2 Connection dropped due to SocketError",
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("site-broken.yaml:3:"), "{}", r.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_passes_on_the_embedded_knowledge_base() {
    let r = run(&["check"], b"");
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains(" 0 problem(s)"));
}

#[test]
fn list_filters_by_family() {
    let r = run(&["list", "--family", "policy", "-f", "json"], b"");
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let first =
            row["codes"].as_array().unwrap().iter().find_map(|c| {
                ndr::codes::CodeQuery::parse(c.as_str().unwrap()).and_then(|q| q.status)
            });
        assert_eq!(first.map(|s| s.subject), Some(7), "{row}");
    }
}
