//! Command-line definitions (clap derive); each doc comment is the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use ndr::render::Format;

/// Explains why an email bounced or sits in a queue, and exactly what to do about it.
///
/// Paste an NDR, Exchange Get-Queue output, an SMTP protocol log or a bare reply such as
/// `550 5.1.1`; ndr finds every delivery error, names the root cause and shows the fix.
#[derive(Debug, Parser)]
#[command(name = "ndr", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: Global,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Output format.
    #[arg(long, short = 'f', global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// When to colour terminal text (NO_COLOR is honoured in auto mode).
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Add (or override) knowledge entries from this folder; repeatable.
    #[arg(long = "kb", global = true, value_name = "DIR")]
    pub kb: Vec<PathBuf>,
}

/// Colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// Colour when writing to a terminal and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Explain the delivery errors in files or stdin (the main job).
    ///
    /// Reads NDR text, Get-Queue / Get-Message output, protocol log lines or bare SMTP replies
    /// (auto-detected; a paste may mix them). Exit status: 0 explained, 1 nothing recognised,
    /// 2 error.
    Explain {
        /// Files to read; `-` or nothing reads stdin.
        files: Vec<PathBuf>,
        /// Read the input as this kind instead of detecting it.
        #[arg(long, value_name = "KIND", value_parser = ["ndr-text", "get-queue", "protocol-log", "smtp-line", "message"])]
        input_kind: Option<String>,
    },
    /// Scan many bounces: files, directories of .eml, mbox files, Maildir folders, globs, `-`.
    ///
    /// Reads in parallel and prints one line per failed recipient (or, with `--format jsonl`,
    /// one JSON finding per line and `{"source", "error"}` for an input that cannot be read),
    /// then a summary. Exit status: 0 failures found, 1 none, 2 an input could not be read.
    Scan {
        /// What to read.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Messages read per parallel batch.
        #[arg(long, default_value_t = 256, hide = true)]
        batch: usize,
        /// Leave out the summary table.
        #[arg(long)]
        no_summary: bool,
    },
    /// Show one knowledge entry by id or code (`5.4.300`, `550 5.4.300`, `#5.4.300`).
    Show {
        /// An entry id or a code.
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
    },
    /// List the knowledge entries.
    List {
        /// Only entries in this family (address, mailbox, system, network, protocol, content,
        /// policy, other).
        #[arg(long)]
        family: Option<String>,
        /// Only entries of this category.
        #[arg(long)]
        category: Option<String>,
        /// Only entries that apply to this system (e.g. exchange-online).
        #[arg(long)]
        system: Option<String>,
    },
    /// Check knowledge entries: schema, ids, folders, regexes, links, and that every sample
    /// matches (or does not match) as it says.
    Check {
        /// A folder of entries to check together with the embedded ones; nothing checks the
        /// embedded knowledge base alone.
        dir: Option<PathBuf>,
    },
}
