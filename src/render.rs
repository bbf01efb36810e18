//! Rendering: one minijinja environment (built once) for terminal text and Markdown; JSON is
//! serde of the same values, never a template.

use minijinja::value::Serde;
use minijinja::{Environment, context};
use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::explain::Explanation;
use crate::kb::Entry;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Terminal text (coloured when the output is a terminal).
    Text,
    /// Markdown, for tickets and wikis.
    Markdown,
    /// JSON (DESIGN.md §7), for scripts and ticketing systems.
    Json,
    /// One JSON finding per line, for streams and batch jobs.
    Jsonl,
}

/// The template environment with the `style` filter bound to a colour choice.
pub struct Renderer {
    env: Environment<'static>,
}

const TEMPLATES: &[(&str, &str)] = &[
    ("_macros.j2", include_str!("../templates/_macros.j2")),
    (
        "explain.txt.j2",
        include_str!("../templates/explain.txt.j2"),
    ),
    ("explain.md.j2", include_str!("../templates/explain.md.j2")),
    ("entry.txt.j2", include_str!("../templates/entry.txt.j2")),
    ("article.md.j2", include_str!("../templates/article.md.j2")),
];

fn ansi(style: &str) -> &'static str {
    match style {
        "bold" => "\x1b[1m",
        "dim" => "\x1b[2m",
        "red" => "\x1b[31m",
        "green" => "\x1b[32m",
        "yellow" => "\x1b[33m",
        "cyan" => "\x1b[36m",
        _ => "",
    }
}

impl Renderer {
    /// A renderer; `color` decides whether `style` emits ANSI escapes.
    pub fn new(color: bool) -> Renderer {
        let mut env = Environment::new();
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()
                .expect("default syntax"),
        );
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .expect("embedded templates compile");
        }
        env.add_filter("style", move |value: String, style: String| -> String {
            if color && !value.is_empty() {
                format!("{}{value}\x1b[0m", ansi(&style))
            } else {
                value
            }
        });
        env.add_filter("lines", |value: String| -> Vec<String> {
            value.lines().map(str::to_owned).collect()
        });
        env.add_filter("truncate", |value: String, n: usize| -> String {
            if value.chars().count() > n {
                format!(
                    "{}…",
                    value.chars().take(n.saturating_sub(1)).collect::<String>()
                )
            } else {
                value
            }
        });
        env.add_filter("wordwrap", |value: String, width: usize| -> String {
            wrap(&value, width)
        });
        Renderer { env }
    }

    fn render(&self, name: &str, ctx: minijinja::Value) -> Result<String> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| Error::new(ErrorKind::Render, format!("{name}: {e:#}")))?;
        tmpl.render(ctx)
            .map_err(|e| Error::new(ErrorKind::Render, format!("{name}: {e:#}")))
    }

    /// Renders an explanation.
    pub fn explanation(&self, e: &Explanation, format: Format) -> Result<String> {
        match format {
            Format::Json => json(e),
            Format::Jsonl => e.findings.iter().map(json_line).collect(),
            Format::Text => self.render(
                "explain.txt.j2",
                context! { findings => Serde(&e.findings), input_kind => &e.input_kind },
            ),
            Format::Markdown => self.render(
                "explain.md.j2",
                context! { findings => Serde(&e.findings), input_kind => &e.input_kind },
            ),
        }
    }

    /// Renders one knowledge entry (`ndr show`).
    pub fn entry(&self, e: &Entry, format: Format) -> Result<String> {
        match format {
            Format::Json | Format::Jsonl => json(e),
            Format::Text => self.render("entry.txt.j2", context! { e => Serde(e) }),
            Format::Markdown => self.render("article.md.j2", context! { e => Serde(e) }),
        }
    }
}

/// Pretty JSON of any serializable value, with a final newline.
pub fn json<T: Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(|e| Error::new(ErrorKind::Render, format!("JSON: {e}")))
}

/// Compact JSON of any serializable value on one line, with a final newline.
pub fn json_line<T: Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string(v)
        .map(|s| s + "\n")
        .map_err(|e| Error::new(ErrorKind::Render, format!("JSON: {e}")))
}

/// Greedy word wrap that keeps existing line breaks.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for (i, para) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut col = 0;
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            let w = word.chars().count();
            if col > 0 && col + 1 + w > width {
                out.push('\n');
                col = 0;
            } else if col > 0 {
                out.push(' ');
                col += 1;
            }
            out.push_str(word);
            col += w;
        }
    }
    out
}
