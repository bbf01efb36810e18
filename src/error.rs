//! The one error type of the crate: a kind, the place it happened and a readable excerpt.

use std::fmt;
use std::path::PathBuf;

/// What went wrong, broadly; `main` maps every kind to exit code 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A file or stdin could not be read.
    Io,
    /// The input was read but cannot be explained as text (binary, unknown encoding).
    Input,
    /// A knowledge entry is broken (schema, regex, rule of the tidy).
    Knowledge,
    /// A template failed to render.
    Render,
    /// The command line asked for something that does not exist.
    Usage,
}

/// An error with the place it points at (`path:line`) and, when known, the offending line.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    path: Option<PathBuf>,
    line: Option<usize>,
    excerpt: Option<String>,
}

impl Error {
    /// A new error of `kind` saying `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            path: None,
            line: None,
            excerpt: None,
        }
    }

    /// Attaches the file the error is about.
    pub fn with_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Attaches a 1-based line number and the text of that line.
    pub fn with_line(mut self, line: usize, excerpt: Option<String>) -> Self {
        self.line = Some(line);
        self.excerpt = excerpt;
        self
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message without the place.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The 1-based line the error points at, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.line) {
            (Some(p), Some(l)) => write!(f, "{}:{}: ", p.display(), l)?,
            (Some(p), None) => write!(f, "{}: ", p.display())?,
            (None, Some(l)) => write!(f, "line {l}: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)?;
        // `{:#}` adds the offending line with a caret, like compilers do.
        if f.alternate()
            && let (Some(line), Some(excerpt)) = (self.line, &self.excerpt)
        {
            let width = line.to_string().len();
            write!(
                f,
                "\n{:width$} |\n{line} | {excerpt}\n{:width$} | {}",
                "",
                "",
                "^".repeat(excerpt.trim_end().chars().count().max(1))
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
