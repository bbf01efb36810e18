//! `ndr scan`: many messages at once — files, directories of `.eml`, mbox files (streamed, never
//! loaded whole), Maildir folders, globs and stdin — read in parallel batches with results in a
//! deterministic order. Every input yields an outcome: its findings, "no failure found", or an
//! error naming it, so inputs in always equal outcomes out.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use mail_parser::mailbox::mbox::MessageIterator;
use rayon::prelude::*;
use serde::Serialize;

use crate::explain::{FindingReport, report};
use crate::input;
use crate::kb::KnowledgeBase;

/// One message (or one text file) to read.
#[derive(Debug)]
pub struct Unit {
    /// The file it came from, or `-`.
    pub source: String,
    /// Index of the message within an mbox (0 otherwise).
    pub message: usize,
    /// The raw bytes, or why they could not be read.
    pub bytes: Result<Vec<u8>, String>,
}

/// What reading one unit gave.
#[derive(Debug)]
pub struct Outcome {
    /// The file it came from.
    pub source: String,
    /// Index of the message within its file.
    pub message: usize,
    /// The explained findings (empty: no delivery failure in it), or the error.
    pub result: Result<Vec<FindingReport>, String>,
}

/// An mbox being streamed: its name, the next message index, the messages.
type OpenMbox = (
    String,
    usize,
    MessageIterator<BufReader<Box<dyn Read + Send>>>,
);

/// Enumerates the units under `paths` lazily: directories are walked in name order, Maildir
/// folders read from `cur/` and `new/`, mbox files streamed message by message.
pub struct Units {
    pending: Vec<PathBuf>,
    mbox: Option<OpenMbox>,
}

impl Units {
    /// Units for these paths, in order; `-` is stdin.
    pub fn new(paths: &[PathBuf]) -> Units {
        let mut pending: Vec<PathBuf> = Vec::new();
        for p in paths {
            let s = p.to_string_lossy();
            if !p.exists() && s != "-" && s.contains(['*', '?', '[']) {
                match glob::glob(&s) {
                    Ok(found) => {
                        let mut found: Vec<PathBuf> = found.filter_map(|r| r.ok()).collect();
                        found.sort();
                        if found.is_empty() {
                            pending.push(p.clone());
                        }
                        pending.extend(found);
                    }
                    Err(_) => pending.push(p.clone()),
                }
            } else {
                pending.push(p.clone());
            }
        }
        pending.reverse();
        Units {
            pending,
            mbox: None,
        }
    }

    fn open(&mut self, path: PathBuf) -> Option<Unit> {
        let source = path.display().to_string();
        if source == "-" {
            return self.start(source, Box::new(std::io::stdin()));
        }
        if path.is_dir() {
            let mut children = children(&path);
            children.reverse();
            self.pending.extend(children);
            return None;
        }
        match File::open(&path) {
            Ok(f) => self.start(source, Box::new(f)),
            Err(e) => Some(Unit {
                source,
                message: 0,
                bytes: Err(format!("cannot read: {e}")),
            }),
        }
    }

    /// Reads the start of a stream: an mbox is streamed, anything else read whole.
    fn start(&mut self, source: String, reader: Box<dyn Read + Send>) -> Option<Unit> {
        let mut reader = BufReader::with_capacity(1 << 16, reader);
        let head = match std::io::BufRead::fill_buf(&mut reader) {
            Ok(h) => h,
            Err(e) => {
                return Some(Unit {
                    source,
                    message: 0,
                    bytes: Err(format!("cannot read: {e}")),
                });
            }
        };
        // A saved message (.eml) may start with an mbox separator line; it is still one message.
        let single = Path::new(&source)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("eml") || e.eq_ignore_ascii_case("msg"));
        if head.starts_with(b"From ") && !single {
            self.mbox = Some((source, 0, MessageIterator::new(reader)));
            return self.next_from_mbox();
        }
        let mut bytes = Vec::new();
        let bytes = match reader.read_to_end(&mut bytes) {
            Ok(_) => Ok(bytes),
            Err(e) => Err(format!("cannot read: {e}")),
        };
        Some(Unit {
            source,
            message: 0,
            bytes,
        })
    }

    fn next_from_mbox(&mut self) -> Option<Unit> {
        let (source, index, iter) = self.mbox.as_mut()?;
        match iter.next() {
            Some(Ok(m)) => {
                let unit = Unit {
                    source: source.clone(),
                    message: *index,
                    bytes: Ok(m.unwrap_contents()),
                };
                *index += 1;
                Some(unit)
            }
            Some(Err(e)) => {
                let unit = Unit {
                    source: source.clone(),
                    message: *index,
                    bytes: Err(format!("cannot read mbox: {e}")),
                };
                self.mbox = None;
                Some(unit)
            }
            None => {
                self.mbox = None;
                None
            }
        }
    }
}

impl Iterator for Units {
    type Item = Unit;

    fn next(&mut self) -> Option<Unit> {
        loop {
            if self.mbox.is_some() {
                if let Some(u) = self.next_from_mbox() {
                    return Some(u);
                }
                continue;
            }
            let path = self.pending.pop()?;
            if let Some(u) = self.open(path) {
                return Some(u);
            }
        }
    }
}

/// The entries of a directory to read, in name order: a Maildir's `cur/` and `new/`, or every
/// file and subdirectory (hidden ones and Maildir `tmp/` left out).
fn children(dir: &Path) -> Vec<PathBuf> {
    let is_maildir = dir.join("cur").is_dir() || dir.join("new").is_dir();
    let list = |d: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        v.retain(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        });
        v.sort();
        v
    };
    if is_maildir {
        let mut out = list(&dir.join("cur"));
        out.extend(list(&dir.join("new")));
        return out;
    }
    list(dir)
        .into_iter()
        .filter(|p| !(p.is_dir() && p.file_name().is_some_and(|n| n == "tmp")))
        .collect()
}

/// Reads and explains one unit.
pub fn process(kb: &KnowledgeBase, unit: Unit) -> Outcome {
    let result = unit.bytes.and_then(|bytes| {
        let reading = input::read(&bytes, &unit.source, None).map_err(|e| {
            // The reader names the source itself; keep only the message.
            let m = e.to_string();
            m.strip_prefix(&format!("{}: ", unit.source))
                .map(str::to_owned)
                .unwrap_or(m)
        })?;
        Ok(reading
            .findings
            .iter()
            .map(|f| {
                let mut r = report(kb, f);
                r.message = unit.message;
                r
            })
            .collect())
    });
    Outcome {
        source: unit.source,
        message: unit.message,
        result,
    }
}

/// Scans `paths`, calling `each` with every outcome in input order. Units are read in batches
/// of `batch`, each batch in parallel.
pub fn scan(kb: &KnowledgeBase, paths: &[PathBuf], batch: usize, mut each: impl FnMut(Outcome)) {
    let mut units = Units::new(paths);
    loop {
        let chunk: Vec<Unit> = units.by_ref().take(batch.max(1)).collect();
        if chunk.is_empty() {
            break;
        }
        let outcomes: Vec<Outcome> = chunk.into_par_iter().map(|u| process(kb, u)).collect();
        for o in outcomes {
            each(o);
        }
    }
}

/// Totals over a scan, for the summary table.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Inputs read (messages and text files).
    pub inputs: usize,
    /// Inputs with at least one failure.
    pub with_failures: usize,
    /// Inputs in which no delivery failure was found.
    pub without_failures: usize,
    /// Inputs that could not be read.
    pub unreadable: usize,
    /// Failed (or delayed) recipients found.
    pub findings: usize,
    /// Findings per category.
    pub by_category: BTreeMap<String, usize>,
    /// Findings per best-matching entry (`-` when none matched).
    pub by_signature: BTreeMap<String, usize>,
}

impl Summary {
    /// Counts one outcome.
    pub fn add(&mut self, o: &Outcome) {
        self.inputs += 1;
        match &o.result {
            Err(_) => self.unreadable += 1,
            Ok(f) if f.is_empty() => self.without_failures += 1,
            Ok(findings) => {
                self.with_failures += 1;
                self.findings += findings.len();
                for f in findings {
                    *self.by_category.entry(f.category.clone()).or_default() += 1;
                    let sig = f.matches.first().map_or("-".to_owned(), |m| m.id.clone());
                    *self.by_signature.entry(sig).or_default() += 1;
                }
            }
        }
    }

    /// The summary as a plain-text table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "inputs {}  with failures {}  without {}  unreadable {}  failed recipients {}\n",
            self.inputs, self.with_failures, self.without_failures, self.unreadable, self.findings
        ));
        let mut cats: Vec<(&String, &usize)> = self.by_category.iter().collect();
        cats.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        out.push_str("\ncategory             count\n");
        for (c, n) in cats {
            out.push_str(&format!("{c:<20} {n:>5}\n"));
        }
        let mut sigs: Vec<(&String, &usize)> = self.by_signature.iter().collect();
        sigs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        out.push_str("\ntop signatures                                          count\n");
        for (s, n) in sigs.into_iter().take(15) {
            out.push_str(&format!("{s:<55} {n:>5}\n"));
        }
        out
    }
}
