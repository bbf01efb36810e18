//! `ndr scan` over every container: an mbox (with `>From ` escaping), a Maildir, a directory
//! of `.eml` files, a glob, stdin; unreadable inputs reported, never dropped; output order
//! deterministic; every input accounted for in the JSON lines.

mod common;

use std::path::{Path, PathBuf};

use common::{fixture_body, ndr, run};

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ndr-scan-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const MESSAGES: [&str; 3] = [
    "tests/fixtures/message/postfix-dsn-gmail-user-unknown.eml",
    "tests/fixtures/message/qmail-mailbox-full.eml",
    "tests/fixtures/message/exim-retry-timeout.eml",
];

fn scan(args: &[&str], stdin: &[u8]) -> (i32, Vec<serde_json::Value>, String) {
    let all: Vec<&str> = ["scan", "--format", "jsonl"]
        .iter()
        .copied()
        .chain(args.iter().copied())
        .collect();
    let r = run(&all, stdin);
    let lines = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (r.code, lines, r.stderr)
}

fn recipients(lines: &[serde_json::Value]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l["recipient"].as_str().map(str::to_owned))
        .collect()
}

fn mbox_of(bodies: &[String]) -> String {
    let mut mbox = String::new();
    for b in bodies {
        mbox.push_str("From MAILER-DAEMON Wed Nov 25 10:02:11 2026\n");
        // mboxrd: a body line starting with "From " is escaped as ">From ".
        for line in b.lines() {
            if line.trim_start_matches('>').starts_with("From ") {
                mbox.push('>');
            }
            mbox.push_str(line);
            mbox.push('\n');
        }
        mbox.push('\n');
    }
    mbox
}

#[test]
fn mbox_messages_are_read_in_order_with_from_escaping() {
    let mut bodies: Vec<String> = MESSAGES.iter().map(|p| fixture_body(p)).collect();
    // A body line that would split the mbox if it were not escaped.
    bodies[1] = bodies[1].replace(
        "Return-Path: <sender@example.org>",
        "From the desk of the sender\nReturn-Path: <sender@example.org>",
    );
    let dir = tempdir("mbox");
    let path = dir.join("bounces.mbox");
    std::fs::write(&path, mbox_of(&bodies)).unwrap();
    let (code, lines, stderr) = scan(&[path.to_str().unwrap()], b"");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        recipients(&lines),
        vec!["ana@example.com", "box@example.net", "slow@example.net"]
    );
    let messages: Vec<u64> = lines
        .iter()
        .map(|l| l["message"].as_u64().unwrap())
        .collect();
    assert_eq!(messages, vec![0, 1, 2]);
    assert!(stderr.contains("inputs 3"), "{stderr}");
}

#[test]
fn maildir_directory_glob_and_stdin() {
    let root = tempdir("maildir");
    let md = root.join("Bounces");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(md.join(sub)).unwrap();
    }
    std::fs::write(
        md.join("cur/1764061331.M1.host:2,S"),
        fixture_body(MESSAGES[0]),
    )
    .unwrap();
    std::fs::write(md.join("new/1764061332.M2.host"), fixture_body(MESSAGES[1])).unwrap();
    // Half-written messages in tmp/ are not read.
    std::fs::write(md.join("tmp/1764061333.M3.host"), fixture_body(MESSAGES[2])).unwrap();
    let (code, lines, _) = scan(&[md.to_str().unwrap()], b"");
    assert_eq!(code, 0);
    assert_eq!(
        recipients(&lines),
        vec!["ana@example.com", "box@example.net"]
    );

    let eml = root.join("eml");
    std::fs::create_dir_all(&eml).unwrap();
    for (i, m) in MESSAGES.iter().enumerate() {
        std::fs::write(eml.join(format!("{i}.eml")), fixture_body(m)).unwrap();
    }
    let (_, by_dir, _) = scan(&[eml.to_str().unwrap()], b"");
    let glob = format!("{}/*.eml", eml.display());
    let (_, by_glob, _) = scan(&[&glob], b"");
    assert_eq!(
        recipients(&by_dir),
        vec!["ana@example.com", "box@example.net", "slow@example.net"]
    );
    assert_eq!(
        by_dir, by_glob,
        "a directory and a glob over it give the same lines"
    );

    let (_, from_stdin, _) = scan(&["-"], fixture_body(MESSAGES[2]).as_bytes());
    assert_eq!(recipients(&from_stdin), vec!["slow@example.net"]);
    assert_eq!(from_stdin[0]["source"], "-");
}

#[test]
fn every_input_is_accounted_for() {
    let dir = tempdir("account");
    std::fs::write(dir.join("a.eml"), fixture_body(MESSAGES[0])).unwrap();
    std::fs::write(
        dir.join("b.bin"),
        [0u8, 1, 2, 3, 0, 0, 0, 0, 9, 9, 0, 0, 7, 0, 0, 0],
    )
    .unwrap();
    std::fs::write(dir.join("c.eml"), "From: friend@example.net\nTo: me@example.org\nSubject: lunch?\n\nAre you free on Friday?\n").unwrap();
    std::fs::write(dir.join("d.txt"), "").unwrap();
    let missing = dir.join("missing.eml");
    let (code, lines, stderr) = scan(&[dir.to_str().unwrap(), missing.to_str().unwrap()], b"");
    assert_eq!(
        code, 2,
        "an unreadable input makes the exit status 2: {stderr}"
    );
    let sources: Vec<String> = lines
        .iter()
        .map(|l| {
            Path::new(l["source"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        sources,
        vec!["a.eml", "b.bin", "c.eml", "d.txt", "missing.eml"]
    );
    assert_eq!(lines[0]["recipient"], "ana@example.com");
    assert!(
        lines[1]["error"].as_str().unwrap().contains("binary"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2]["none"], "no delivery failure found");
    assert!(
        lines[3]["error"].as_str().unwrap().contains("empty"),
        "{}",
        lines[3]
    );
    assert!(
        lines[4]["error"].as_str().unwrap().contains("cannot read"),
        "{}",
        lines[4]
    );
    assert!(
        stderr.contains("inputs 5") && stderr.contains("unreadable 3"),
        "{stderr}"
    );
}

#[test]
fn text_summary_counts_categories() {
    let dir = tempdir("summary");
    for (i, m) in MESSAGES.iter().enumerate() {
        std::fs::write(dir.join(format!("{i}.eml")), fixture_body(m)).unwrap();
    }
    let out = ndr()
        .args(["scan", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("failed recipients 3"), "{text}");
    for cat in ["userunknown", "mailboxfull", "expired"] {
        assert!(
            text.lines().any(|l| l.starts_with(cat)),
            "{cat} missing from\n{text}"
        );
    }
}

/// `explain` reads an mbox message by message too, not just its first message.
#[test]
fn explain_reads_every_message_of_an_mbox() {
    let bodies: Vec<String> = MESSAGES.iter().map(|p| fixture_body(p)).collect();
    let dir = tempdir("explain-mbox");
    let path = dir.join("bounces.mbox");
    std::fs::write(&path, mbox_of(&bodies)).unwrap();
    let out = ndr()
        .args(["explain", "--format", "json", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(String, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["recipient"].as_str().unwrap().to_owned(),
                f["message"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("ana@example.com".into(), 0),
            ("box@example.net".into(), 1),
            ("slow@example.net".into(), 2)
        ]
    );
}
