//! The knowledge base: entries parsed from YAML (the `knowledge/` folder is embedded in the
//! binary; `--kb DIR` adds or overrides entries from disk), compiled once for matching.

pub mod model;
pub mod tidy;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use regex::{Regex, RegexBuilder};

pub use model::*;

use crate::codes::CodeQuery;
use crate::error::{Error, ErrorKind, Result};

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/knowledge");

/// One problem with a knowledge file, printed as `path:line: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, as the author knows it (`knowledge/network/x.yaml`).
    pub path: String,
    /// 1-based line; 1 when the problem is about the whole file.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// A YAML file of the knowledge base, before parsing.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Display path (`knowledge/network/x.yaml` for embedded files).
    pub path: String,
    /// Path relative to the knowledge root (`network/x.yaml`), for the folder rule.
    pub relative: PathBuf,
    /// The text.
    pub text: String,
    /// True for files embedded in the binary; files from disk override them.
    pub embedded: bool,
}

impl SourceFile {
    /// The 1-based line of the first occurrence of `needle`, else 1.
    pub fn line_of(&self, needle: &str) -> usize {
        self.text
            .find(needle)
            .map_or(1, |at| self.text[..at].matches('\n').count() + 1)
    }
}

/// A compiled pattern of an entry.
#[derive(Debug, Clone)]
pub struct CompiledPattern {
    /// The regex, case-insensitive.
    pub regex: Regex,
    /// Whether it makes the entry match.
    pub role: PatternRole,
    /// The cause to list first when it is found.
    pub cause: Option<String>,
}

/// An entry with its regexes and codes ready for matching.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The entry as written.
    pub entry: Entry,
    /// Where it came from.
    pub source: SourceFile,
    /// Parsed `codes`.
    pub codes: Vec<CodeQuery>,
    /// Lowercased `tokens`.
    pub tokens: Vec<String>,
    /// Compiled `patterns`.
    pub patterns: Vec<CompiledPattern>,
}

impl Loaded {
    /// True when the entry only matches through its patterns or tokens.
    pub fn needs_text_hit(&self) -> bool {
        !self.tokens.is_empty() || self.patterns.iter().any(|p| p.role == PatternRole::Match)
    }
}

/// The loaded knowledge base.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeBase {
    entries: Vec<Loaded>,
    by_id: HashMap<String, usize>,
}

/// Parses one entry. The one place YAML is read, so the parser can be swapped.
pub fn parse_entry(text: &str) -> std::result::Result<Entry, (usize, String)> {
    serde_saphyr::from_str::<Entry>(text).map_err(|e| {
        let line = e.location().map_or(1, |l| l.line() as usize).max(1);
        let msg = e.to_string();
        let first = msg.lines().next().unwrap_or("invalid entry").trim();
        // The place is printed by the caller as `path:line:`; keep only the message.
        let first = first.strip_prefix("error: ").unwrap_or(first);
        let first = match first.split_once(": ") {
            Some((place, rest)) if place.starts_with("line ") && place.contains(" column ") => rest,
            _ => first,
        };
        (line, first.to_owned())
    })
}

impl KnowledgeBase {
    /// The embedded knowledge base.
    pub fn embedded() -> Result<KnowledgeBase> {
        Self::load(&[])
    }

    /// The embedded knowledge base plus the entries in `dirs` (later ids override earlier).
    /// Any broken entry is an error naming its file and line.
    pub fn load(dirs: &[PathBuf]) -> Result<KnowledgeBase> {
        let mut files = embedded_files();
        for d in dirs {
            files.extend(files_in(d)?);
        }
        let (kb, problems) = Self::compile(files);
        if let Some(p) = problems.first() {
            let more = if problems.len() > 1 {
                format!(
                    " (and {} more problems; run `ndr check`)",
                    problems.len() - 1
                )
            } else {
                String::new()
            };
            return Err(Error::new(
                ErrorKind::Knowledge,
                format!("broken knowledge entry: {p}{more}"),
            ));
        }
        Ok(kb)
    }

    /// Parses and compiles `files`, keeping every entry that parses and reporting every
    /// parse or regex problem.
    pub fn compile(files: Vec<SourceFile>) -> (KnowledgeBase, Vec<Problem>) {
        let mut kb = KnowledgeBase::default();
        let mut problems = Vec::new();
        for file in files {
            let entry = match parse_entry(&file.text) {
                Ok(e) => e,
                Err((line, message)) => {
                    problems.push(Problem {
                        path: file.path.clone(),
                        line,
                        message,
                    });
                    continue;
                }
            };
            let mut patterns = Vec::new();
            for p in &entry.patterns {
                match RegexBuilder::new(&p.regex)
                    .case_insensitive(true)
                    .size_limit(1 << 22)
                    .build()
                {
                    Ok(regex) => patterns.push(CompiledPattern {
                        regex,
                        role: p.role,
                        cause: p.cause.clone(),
                    }),
                    Err(e) => problems.push(Problem {
                        path: file.path.clone(),
                        line: file.line_of(&p.regex),
                        message: format!(
                            "pattern does not compile: {}",
                            e.to_string().lines().last().unwrap_or("")
                        ),
                    }),
                }
            }
            let mut codes = Vec::new();
            for c in &entry.codes {
                match CodeQuery::parse(c) {
                    Some(q) => codes.push(q),
                    None => problems.push(Problem {
                        path: file.path.clone(),
                        line: file.line_of(c),
                        message: format!(
                            "code '{c}' is not a reply code and/or an enhanced status code"
                        ),
                    }),
                }
            }
            let tokens = entry.tokens.iter().map(|t| t.to_lowercase()).collect();
            let loaded = Loaded {
                entry,
                source: file,
                codes,
                tokens,
                patterns,
            };
            match kb.by_id.get(&loaded.entry.id) {
                Some(&at) if kb.entries[at].source.embedded && !loaded.source.embedded => {
                    // A site's own entry overrides the embedded one with the same id.
                    kb.entries[at] = loaded;
                }
                Some(&at) => problems.push(Problem {
                    path: loaded.source.path.clone(),
                    line: loaded.source.line_of("id:"),
                    message: format!(
                        "id '{}' is already used by {}",
                        loaded.entry.id, kb.entries[at].source.path
                    ),
                }),
                None => {
                    kb.by_id.insert(loaded.entry.id.clone(), kb.entries.len());
                    kb.entries.push(loaded);
                }
            }
        }
        (kb, problems)
    }

    /// Every entry, in load order.
    pub fn entries(&self) -> &[Loaded] {
        &self.entries
    }

    /// The entry with this id.
    pub fn get(&self, id: &str) -> Option<&Loaded> {
        self.by_id.get(id).map(|&i| &self.entries[i])
    }

    /// Entries whose codes fit a query (`5.4.300`, `550 5.4.300`, `550`).
    pub fn by_code(&self, q: &CodeQuery) -> Vec<&Loaded> {
        self.entries
            .iter()
            .filter(|e| {
                e.codes.iter().any(|c| {
                    let status_ok = match (q.status, c.status) {
                        (Some(a), Some(b)) => a == b,
                        (Some(_), None) => false,
                        (None, _) => true,
                    };
                    let reply_ok = match (q.reply, c.reply) {
                        (Some(a), Some(b)) => a == b,
                        (Some(_), None) => q.status.is_some(),
                        (None, _) => true,
                    };
                    status_ok && reply_ok
                })
            })
            .collect()
    }
}

/// The embedded `knowledge/` files.
pub fn embedded_files() -> Vec<SourceFile> {
    let mut out = Vec::new();
    collect_embedded(&EMBEDDED, &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn collect_embedded(dir: &Dir<'_>, out: &mut Vec<SourceFile>) {
    for f in dir.files() {
        if f.path()
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml")
        {
            out.push(SourceFile {
                path: format!("knowledge/{}", f.path().display()),
                relative: f.path().to_path_buf(),
                text: String::from_utf8_lossy(f.contents()).into_owned(),
                embedded: true,
            });
        }
    }
    for d in dir.dirs() {
        collect_embedded(d, out);
    }
}

/// The YAML files under `root`, sorted; unreadable files are errors naming the file.
pub fn files_in(root: &Path) -> Result<Vec<SourceFile>> {
    let mut out = Vec::new();
    walk(root, root, &mut out)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<SourceFile>) -> Result<()> {
    let read = std::fs::read_dir(dir).map_err(|e| {
        Error::new(ErrorKind::Io, format!("cannot read knowledge folder: {e}")).with_path(dir)
    })?;
    let mut items: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    items.sort();
    for p in items {
        if p.is_dir() {
            walk(root, &p, out)?;
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let bytes = std::fs::read(&p).map_err(|e| {
                Error::new(ErrorKind::Io, format!("cannot read: {e}")).with_path(&p)
            })?;
            let text = String::from_utf8(bytes).map_err(|_| {
                Error::new(ErrorKind::Knowledge, "knowledge files must be UTF-8").with_path(&p)
            })?;
            out.push(SourceFile {
                path: p.display().to_string(),
                relative: p.strip_prefix(root).unwrap_or(&p).to_path_buf(),
                text,
                embedded: false,
            });
        }
    }
    Ok(())
}
