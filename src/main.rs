//! The `ndr` binary: parse the command line, call the library, map the result to an exit code
//! (0 explained, 1 nothing recognised, 2 error). A closed pipe is not an error.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use ndr::codes::CodeQuery;
use ndr::error::{Error, ErrorKind, Result};
use ndr::input::{self, InputKind};
use ndr::kb::{self, KnowledgeBase};
use ndr::render::{Format, Renderer};

mod cli;

use cli::{Cli, Color, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "ndr: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &Error) -> bool {
    e.kind() == ErrorKind::Io && e.message().contains("Broken pipe")
}

fn use_color(choice: Color) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal()
        }
    }
}

fn print(text: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))
}

fn run(cli: Cli) -> Result<u8> {
    let g = &cli.global;
    let renderer = Renderer::new(g.format == Format::Text && use_color(g.color));
    match cli.command {
        Command::Check { dir } => check(dir, g.format),
        Command::Explain { files, input_kind } => {
            let kb = KnowledgeBase::load(&g.kb)?;
            let kind = input_kind.map(|k| k.parse::<InputKind>()).transpose()?;
            explain(&kb, &renderer, g.format, &files, kind)
        }
        Command::Scan {
            paths,
            batch,
            no_summary,
        } => {
            let kb = KnowledgeBase::load(&g.kb)?;
            scan(&kb, g.format, &paths, batch, !no_summary)
        }
        Command::Show { query } => {
            let kb = KnowledgeBase::load(&g.kb)?;
            show(&kb, &renderer, g.format, &query.join(" "))
        }
        Command::List {
            family,
            category,
            system,
        } => {
            let kb = KnowledgeBase::load(&g.kb)?;
            list(&kb, g.format, family, category, system)
        }
    }
}

fn explain(
    kb: &KnowledgeBase,
    renderer: &Renderer,
    format: Format,
    files: &[PathBuf],
    kind: Option<InputKind>,
) -> Result<u8> {
    let files = if files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        files.to_vec()
    };
    if files.len() == 1 && files[0].as_os_str() == "-" && io::stdin().is_terminal() {
        let _ = writeln!(
            io::stderr(),
            "ndr: reading the error from stdin; paste it, then press Ctrl-D (Ctrl-Z Enter on Windows)"
        );
    }
    // Files, directories and mbox files are read the way `scan` reads them (an mbox message
    // by message), but any input that cannot be read stops `explain` with an error.
    let mut explanations = Vec::new();
    for unit in ndr::scan::Units::new(&files) {
        let bytes = unit
            .bytes
            .map_err(|e| Error::new(ErrorKind::Io, e).with_path(&unit.source))?;
        let mut reading = input::read(&bytes, &unit.source, kind)?;
        for f in &mut reading.findings {
            f.message = unit.message;
        }
        explanations.push(ndr::explain::explain(kb, &reading));
    }
    if explanations.is_empty() {
        return Err(Error::new(
            ErrorKind::Io,
            "no input: the folders given hold no files",
        ));
    }
    // Several inputs are explained as one list of findings.
    let mut all = explanations.remove(0);
    for e in explanations {
        if e.input_kind != all.input_kind {
            all.input_kind = "mixed".into();
        }
        all.findings.extend(e.findings);
    }
    let recognised = all.findings.iter().any(|f| !f.matches.is_empty());
    if all.findings.is_empty() {
        if format == Format::Json {
            print(&ndr::render::json(&all)?)?;
        } else {
            let _ = writeln!(
                io::stderr(),
                "ndr: no delivery error found in the input.\n\
                 ndr reads NDR text, Get-Queue/Get-Message output, protocol logs and SMTP replies such as `550 5.1.1 …`.\n\
                 Search the knowledge base with `ndr list` or `ndr show <code>`; to add an entry see knowledge/README.md."
            );
        }
        return Ok(1);
    }
    print(&renderer.explanation(&all, format)?)?;
    Ok(if recognised { 0 } else { 1 })
}

fn scan(
    kb: &KnowledgeBase,
    format: Format,
    paths: &[PathBuf],
    batch: usize,
    summary: bool,
) -> Result<u8> {
    use ndr::scan::{Outcome, Summary};
    let mut totals = Summary::default();
    let mut failed = None;
    let progress = io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} inputs read, {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar
    });
    let mut out = io::BufWriter::new(io::stdout().lock());
    ndr::scan::scan(kb, paths, batch, |o: Outcome| {
        if failed.is_some() {
            return;
        }
        totals.add(&o);
        if let Some(bar) = &progress {
            bar.inc(1);
            bar.set_message(format!("{} failed recipients", totals.findings));
        }
        let text = match (&o.result, format) {
            (Err(e), Format::Json | Format::Jsonl) => ndr::render::json_line(
                &serde_json::json!({"source": o.source, "message": o.message, "error": e}),
            ),
            (Err(e), _) => Ok(format!(
                "{}#{}: error: {e}
",
                o.source, o.message
            )),
            (Ok(f), Format::Json | Format::Jsonl) if f.is_empty() => ndr::render::json_line(
                &serde_json::json!({"source": o.source, "message": o.message, "none": "no delivery failure found"}),
            ),
            (Ok(findings), Format::Json | Format::Jsonl) => findings
                .iter()
                .map(ndr::render::json_line)
                .collect::<Result<String>>(),
            (Ok(findings), _) => Ok(findings
                .iter()
                .map(|f| {
                    format!(
                        "{}#{}\t{}\t{}\t{}\t{}\n",
                        f.source,
                        f.message,
                        f.recipient.as_deref().unwrap_or("-"),
                        f.status.as_deref().unwrap_or("-"),
                        f.category,
                        f.matches.first().map_or("-", |m| m.id.as_str())
                    )
                })
                .collect()),
        };
        match text.and_then(|t| {
            out.write_all(t.as_bytes())
                .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))
        }) {
            Ok(()) => {}
            Err(e) => failed = Some(e),
        }
    });
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Some(e) = failed {
        return Err(e);
    }
    if summary {
        let table = totals.table();
        if matches!(format, Format::Json | Format::Jsonl) {
            let _ = write!(io::stderr(), "{table}");
        } else {
            out.write_all(format!("\n{table}").as_bytes())
                .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
        }
    }
    out.flush()
        .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
    Ok(if totals.unreadable > 0 {
        2
    } else if totals.findings > 0 {
        0
    } else {
        1
    })
}

fn show(kb: &KnowledgeBase, renderer: &Renderer, format: Format, query: &str) -> Result<u8> {
    let q = query.trim();
    if let Some(e) = kb.get(q) {
        print(&renderer.entry(e.entry(), format)?)?;
        return Ok(0);
    }
    let candidates: Vec<&kb::Loaded> = match CodeQuery::parse(q) {
        Some(code) => kb.by_code(&code),
        None => {
            let lower = q.to_lowercase();
            kb.entries()
                .iter()
                .filter(|e| {
                    e.id.contains(&lower) || e.entry().title.to_lowercase().contains(&lower)
                })
                .collect()
        }
    };
    match candidates.as_slice() {
        [] => {
            if let Some(code) = CodeQuery::parse(q) {
                let mut text = format!("No knowledge entry has the code {q}.\n");
                if let Some(r) = code.reply {
                    text.push_str(&format!("  {r}: {}\n", ndr::codes::reply_meaning(r)));
                }
                if let Some(s) = code.status {
                    text.push_str(&format!(
                        "  {s}: {} {}{}.\n",
                        ndr::codes::class_meaning(s.class),
                        ndr::codes::subject_meaning(s.subject),
                        ndr::codes::detail_meaning(s.subject, s.detail)
                            .map(|d| format!(": {d}"))
                            .unwrap_or_default()
                    ));
                }
                text.push_str("To add an entry, see knowledge/README.md.\n");
                print(&text)?;
            } else {
                let _ = writeln!(
                    io::stderr(),
                    "ndr: no entry or code matches '{q}'; try `ndr list`"
                );
            }
            Ok(1)
        }
        [one] => {
            print(&renderer.entry(one.entry(), format)?)?;
            Ok(0)
        }
        many => {
            if format == Format::Json {
                let ids: Vec<&str> = many.iter().map(|e| e.id.as_str()).collect();
                print(&ndr::render::json(&ids)?)?;
            } else {
                let mut text = format!(
                    "{} entries match '{q}'; show one with `ndr show <id>`:\n",
                    many.len()
                );
                for e in many {
                    text.push_str(&format!("  {:<52} {}\n", e.id, e.entry().title));
                }
                print(&text)?;
            }
            Ok(0)
        }
    }
}

fn list(
    kb: &KnowledgeBase,
    format: Format,
    family: Option<String>,
    category: Option<String>,
    system: Option<String>,
) -> Result<u8> {
    let rows: Vec<&kb::Loaded> = kb
        .entries()
        .iter()
        .filter(|e| {
            family
                .as_ref()
                .is_none_or(|f| e.source.relative.starts_with(f))
        })
        .filter(|e| category.as_ref().is_none_or(|c| &e.entry().category == c))
        .filter(|e| {
            system
                .as_ref()
                .is_none_or(|s| e.entry().applies_to.systems.iter().any(|x| x == s))
        })
        .collect();
    if format == Format::Json {
        #[derive(serde::Serialize)]
        struct Row<'a> {
            id: &'a str,
            title: &'a str,
            category: &'a str,
            codes: &'a [String],
        }
        let out: Vec<Row<'_>> = rows
            .iter()
            .map(|e| Row {
                id: &e.id,
                title: &e.entry().title,
                category: &e.entry().category,
                codes: &e.entry().codes,
            })
            .collect();
        print(&ndr::render::json(&out)?)?;
    } else {
        let mut text = String::new();
        for e in &rows {
            text.push_str(&format!(
                "{:<52} {:<16} {}\n",
                e.id,
                e.entry().codes.join(", "),
                e.entry().title
            ));
        }
        print(&text)?;
    }
    Ok(if rows.is_empty() { 1 } else { 0 })
}

fn check(dir: Option<PathBuf>, format: Format) -> Result<u8> {
    let mut files = kb::embedded_files();
    if let Some(d) = &dir {
        files.extend(kb::files_in(d)?);
    }
    let report = kb::tidy::check(files);
    if format == Format::Json {
        let problems: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        print(&ndr::render::json(&problems)?)?;
    } else {
        let mut text = String::new();
        for p in &report.problems {
            text.push_str(&format!("{p}\n"));
        }
        for t in &report.todos {
            text.push_str(&format!("{t}\n"));
        }
        text.push_str(&format!(
            "{} entries checked: {} problem(s), {} known gap(s)\n",
            report.entries,
            report.problems.len(),
            report.todos.len()
        ));
        print(&text)?;
    }
    Ok(if report.problems.is_empty() { 0 } else { 1 })
}
