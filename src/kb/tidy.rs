//! The tidy: every rule a knowledge entry must satisfy, checked over the whole knowledge base
//! at once. `ndr check` and `tests/kb.rs` both run it; each problem is `path:line: message`.

use std::collections::HashSet;
use std::path::Path;

use super::{CATEGORIES, EntryStatus, KnowledgeBase, Loaded, Problem, SourceFile};
use crate::codes::family_of_subject;
use crate::explain;
use crate::input::{self, InputKind};
use crate::render::{Format, Renderer};

/// What the tidy found.
#[derive(Debug, Default)]
pub struct Report {
    /// Rule violations; any makes `ndr check` fail.
    pub problems: Vec<Problem>,
    /// Known gaps (`todo_match` samples), reported but never failing.
    pub todos: Vec<Problem>,
    /// How many entries were checked.
    pub entries: usize,
}

/// Checks `files` (all of them together, so ids and `see_also` resolve across folders).
pub fn check(files: Vec<SourceFile>) -> Report {
    let (kb, mut problems) = KnowledgeBase::compile(files);
    let renderer = Renderer::new(false);
    let ids: HashSet<&str> = kb.entries().iter().map(|e| e.id.as_str()).collect();
    let mut todos = Vec::new();
    for loaded in kb.entries() {
        let mut p = Vec::new();
        rules(loaded, &ids, &mut p);
        samples(&kb, loaded, &mut p, &mut todos);
        renders(loaded, &kb, &renderer, &mut p);
        problems.extend(p);
    }
    problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    Report {
        problems,
        todos,
        entries: kb.entries().len(),
    }
}

fn problem(l: &Loaded, needle: &str, message: impl Into<String>) -> Problem {
    Problem {
        path: l.source.path.clone(),
        line: l.source.line_of(needle),
        message: message.into(),
    }
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn rules(l: &Loaded, ids: &HashSet<&str>, out: &mut Vec<Problem>) {
    let e = &l.entry();
    let stem = Path::new(&l.source.relative)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("");
    if e.id != stem {
        out.push(problem(
            l,
            "id:",
            format!("id '{}' differs from the file name '{stem}'", e.id),
        ));
    }
    if !is_kebab(&e.id) {
        out.push(problem(
            l,
            "id:",
            format!("id '{}' is not kebab-case", e.id),
        ));
    }
    let family = l
        .codes
        .iter()
        .find_map(|c| c.status)
        .map_or("other", |s| family_of_subject(s.subject));
    let folder = Path::new(&l.source.relative)
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|s| s.to_str())
        .unwrap_or("");
    if folder != family {
        out.push(problem(
            l,
            "codes:",
            format!(
                "entry is in folder '{folder}' but its first enhanced code puts it in '{family}'"
            ),
        ));
    }
    let title = e.title.trim();
    if title.is_empty() || title.chars().count() > 80 {
        out.push(problem(
            l,
            "title:",
            format!(
                "title must be 1-80 characters (has {})",
                title.chars().count()
            ),
        ));
    }
    if title.ends_with('.') {
        out.push(problem(l, "title:", "title ends with a period"));
    }
    if e.summary.trim().is_empty() {
        out.push(problem(l, "summary:", "summary is empty"));
    }
    if !CATEGORIES.contains(&e.category.as_str()) {
        out.push(problem(
            l,
            "category:",
            format!(
                "unknown category '{}' (see knowledge/README.md)",
                e.category
            ),
        ));
    }
    for (list, name) in [
        (e.causes.is_empty(), "causes"),
        (e.fixes.is_empty(), "fixes"),
        (e.references.is_empty(), "references"),
        (e.samples.matches.is_empty(), "samples.match"),
    ] {
        if list {
            out.push(problem(
                l,
                &format!("{}:", name.split('.').next_back().unwrap_or(name)),
                format!("{name} must not be empty"),
            ));
        }
    }
    let mut cause_ids = HashSet::new();
    for c in &e.causes {
        if !cause_ids.insert(c.id.as_str()) {
            out.push(problem(
                l,
                &format!("id: {}", c.id),
                format!("cause id '{}' is declared twice", c.id),
            ));
        }
        if !is_kebab(&c.id) {
            out.push(problem(
                l,
                &c.id,
                format!("cause id '{}' is not kebab-case", c.id),
            ));
        }
    }
    let mut fixed = HashSet::new();
    for f in &e.fixes {
        if f.steps.is_empty() {
            out.push(problem(
                l,
                &f.title,
                format!("fix '{}' has no steps", f.title),
            ));
        }
        if f.causes.is_empty() {
            out.push(problem(
                l,
                &f.title,
                format!("fix '{}' names no cause", f.title),
            ));
        }
        for c in &f.causes {
            if !cause_ids.contains(c.as_str()) {
                out.push(problem(
                    l,
                    &f.title,
                    format!("fix '{}' names undeclared cause '{c}'", f.title),
                ));
            }
            fixed.insert(c.as_str());
        }
        for s in &f.steps {
            if s.action.trim().is_empty() {
                out.push(problem(
                    l,
                    &f.title,
                    format!("fix '{}' has a step without an action", f.title),
                ));
            }
        }
    }
    for c in &e.causes {
        if !fixed.contains(c.id.as_str()) {
            out.push(problem(
                l,
                &format!("id: {}", c.id),
                format!("cause '{}' has no fix", c.id),
            ));
        }
    }
    for p in &l.patterns {
        if !p.compiles() {
            out.push(problem(
                l,
                &p.source,
                "pattern is too large to compile (over 4 MiB); simplify it",
            ));
        }
    }
    for p in &e.patterns {
        if let Some(c) = &p.cause
            && !cause_ids.contains(c.as_str())
        {
            out.push(problem(
                l,
                &p.regex,
                format!("pattern names undeclared cause '{c}'"),
            ));
        }
    }
    for r in &e.references {
        if !r.url.starts_with("https://") {
            out.push(problem(
                l,
                &r.url,
                format!("reference URL is not https: {}", r.url),
            ));
        }
    }
    for s in &e.see_also {
        if !ids.contains(s.as_str()) {
            out.push(problem(l, s, format!("see_also names unknown entry '{s}'")));
        }
    }
    if e.status == EntryStatus::Deprecated {
        match &e.replaced_by {
            Some(r) if ids.contains(r.as_str()) => {}
            Some(r) => out.push(problem(
                l,
                r,
                format!("replaced_by names unknown entry '{r}'"),
            )),
            None => out.push(problem(
                l,
                "status:",
                "a deprecated entry needs replaced_by",
            )),
        }
    }
}

fn samples(kb: &KnowledgeBase, l: &Loaded, out: &mut Vec<Problem>, todos: &mut Vec<Problem>) {
    let e = &l.entry();
    let mut names = HashSet::new();
    for s in e
        .samples
        .matches
        .iter()
        .chain(&e.samples.no_match)
        .chain(&e.samples.todo_match)
    {
        if !names.insert(s.name.as_str()) {
            out.push(problem(
                l,
                &format!("name: {}", s.name),
                format!("sample name '{}' is used twice", s.name),
            ));
        }
    }
    let read = |text: &str, kind: &Option<String>| -> Result<input::Reading, String> {
        let k = match kind {
            Some(k) => Some(k.parse::<InputKind>().map_err(|e| e.message().to_owned())?),
            None => None,
        };
        Ok(input::read_text(text, "sample", k))
    };
    for s in &e.samples.matches {
        let at = format!("name: {}", s.name);
        let reading = match read(&s.text, &s.kind) {
            Ok(r) => r,
            Err(m) => {
                out.push(problem(l, &at, format!("sample '{}': {m}", s.name)));
                continue;
            }
        };
        if reading.findings.is_empty() {
            out.push(problem(
                l,
                &at,
                format!(
                    "sample '{}': the {} reader finds no error in it",
                    s.name,
                    s.kind.as_deref().unwrap_or("auto-detected")
                ),
            ));
            continue;
        }
        let mut best: Option<String> = None;
        let mut ok = false;
        for f in &reading.findings {
            let ms = crate::matcher::match_finding(kb, f);
            let Some(top) = ms.first() else { continue };
            if top.entry.id == e.id {
                let missing: Vec<String> = s
                    .captures
                    .iter()
                    .filter(|(k, v)| top.captures.get(*k) != Some(*v))
                    .map(|(k, v)| format!("{k}={v:?} (got {:?})", top.captures.get(k)))
                    .collect();
                if missing.is_empty() {
                    ok = true;
                    break;
                }
                best = Some(format!(
                    "matches but misses captures: {}",
                    missing.join(", ")
                ));
            } else if best.is_none() {
                let mine = ms.iter().find(|m| m.entry.id == e.id);
                best = Some(match mine {
                    Some(m) => format!(
                        "'{}' ranks first (score {}), this entry scores {}",
                        top.entry.id, top.score, m.score
                    ),
                    None => format!(
                        "is not matched by this entry ('{}' matches instead)",
                        top.entry.id
                    ),
                });
            }
        }
        if !ok {
            let why = best.unwrap_or_else(|| "is matched by no entry".to_owned());
            out.push(problem(l, &at, format!("sample '{}' {why}", s.name)));
        }
    }
    for s in &e.samples.no_match {
        let at = format!("name: {}", s.name);
        let Ok(reading) = read(&s.text, &s.kind) else {
            continue;
        };
        let hit = reading.findings.iter().any(|f| {
            crate::matcher::match_finding(kb, f)
                .iter()
                .any(|m| m.entry.id == e.id)
        });
        if hit {
            out.push(problem(
                l,
                &at,
                format!("no_match sample '{}' is matched by this entry", s.name),
            ));
        }
    }
    for s in &e.samples.todo_match {
        todos.push(problem(
            l,
            &format!("name: {}", s.name),
            format!("todo: sample '{}' is a known gap", s.name),
        ));
    }
}

fn renders(l: &Loaded, kb: &KnowledgeBase, renderer: &Renderer, out: &mut Vec<Problem>) {
    for format in [Format::Text, Format::Markdown, Format::Json] {
        if let Err(err) = renderer.entry(l.entry(), format) {
            out.push(problem(
                l,
                "id:",
                format!("does not render as {format:?}: {err}"),
            ));
        }
    }
    let json = serde_json::to_value(l.entry()).ok();
    let back = json
        .clone()
        .and_then(|j| serde_json::from_value::<super::Entry>(j).ok());
    if back.and_then(|b| serde_json::to_value(b).ok()) != json {
        out.push(problem(l, "id:", "entry does not round-trip through JSON"));
    }
    if let Some(s) = l.entry().samples.matches.first() {
        let reading = input::read_text(&s.text, "sample", None);
        let explanation = explain::explain(kb, &reading);
        for format in [Format::Text, Format::Markdown, Format::Json] {
            if let Err(err) = renderer.explanation(&explanation, format) {
                out.push(problem(
                    l,
                    "samples:",
                    format!("explanation does not render as {format:?}: {err}"),
                ));
            }
        }
    }
}
