//! Helpers shared by the integration tests that run the `ndr` binary.

use std::io::Write;
use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin;

/// `ndr` with colour off and NO_COLOR unset, so output does not depend on the environment.
pub fn ndr() -> Command {
    let mut c = Command::new(cargo_bin("ndr"));
    c.env_remove("NO_COLOR").arg("--color").arg("never");
    c
}

/// What one run printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `ndr ARGS` with `stdin` fed from a thread (so a large input cannot deadlock).
pub fn run(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = ndr()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The raw input of a fixture: what follows its `---` header line.
pub fn fixture_body(path: &str) -> String {
    let raw = std::fs::read_to_string(path).unwrap();
    raw.split_once("\n---\n").unwrap().1.to_owned()
}
