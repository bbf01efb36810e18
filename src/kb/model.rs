//! The knowledge entry: the serde structs are the schema (unknown fields are errors).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One error signature with its causes, fixes, references and the samples that prove it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Permanent kebab-case id, equal to the file stem.
    pub id: String,
    /// One sentence, at most 80 characters, no trailing period.
    pub title: String,
    /// What the error means, in two to four sentences of plain Markdown.
    pub summary: String,
    /// The bounce-reason category (see [`CATEGORIES`]).
    pub category: String,
    /// Whether retrying can help.
    pub severity: Severity,
    /// Whether the entry names a root cause, a consequence of one, or only carries another error.
    #[serde(default)]
    pub role: Role,
    /// Lifecycle: entries are never deleted, only deprecated.
    #[serde(default)]
    pub status: EntryStatus,
    /// The entry that replaces a deprecated one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
    /// Which systems and which direction of mail flow the entry is about.
    pub applies_to: AppliesTo,
    /// Codes as they appear, outermost first: `"451 4.4.397"`, `"5.1.1"`, `"550"`.
    #[serde(default)]
    pub codes: Vec<String>,
    /// Vendor tokens matched as literal, case-insensitive text (`QUEUE.Expired`).
    #[serde(default)]
    pub tokens: Vec<String>,
    /// Case-insensitive regexes; named groups become captured values.
    #[serde(default)]
    pub patterns: Vec<Pattern>,
    /// Possible causes, most likely first.
    pub causes: Vec<Cause>,
    /// Ordered fixes: the first is the first thing to try.
    pub fixes: Vec<Fix>,
    /// When this entry is NOT the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_problems: Option<String>,
    /// Where the facts come from.
    pub references: Vec<Reference>,
    /// Related entries.
    #[serde(default)]
    pub see_also: Vec<String>,
    /// Texts that must and must not match.
    pub samples: Samples,
}

/// Whether retrying can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The sender retries; it may succeed later.
    Transient,
    /// Retrying the same message will fail again.
    Permanent,
    /// Not a failure (a delay notice, an auto-reply).
    Info,
}

/// How an entry relates to the other links of an error chain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The entry names a root cause.
    #[default]
    Cause,
    /// The error results from another one (expired after retries).
    Consequence,
    /// The error only carries another one (4.4.397 "Error communicating with target host").
    Wrapper,
}

/// Lifecycle of an entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryStatus {
    /// In use.
    #[default]
    Active,
    /// Kept for its id; see `replaced_by`.
    Deprecated,
}

/// Systems and direction.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AppliesTo {
    /// e.g. `exchange-2019`, `exchange-online`, `gmail`, `postfix`.
    #[serde(default)]
    pub systems: Vec<String>,
    /// Which way the mail was going when it failed.
    #[serde(default)]
    pub direction: Direction,
}

/// Direction of mail flow relative to the organisation reading the error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Mail coming in.
    Inbound,
    /// Mail going out.
    Outbound,
    /// Either way.
    #[default]
    Both,
}

/// A regex over the error text.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Pattern {
    /// Case-insensitive regex (Rust `regex` syntax).
    pub regex: String,
    /// `match` makes the entry match; `context` only extracts values or hints a cause.
    #[serde(default)]
    pub role: PatternRole,
    /// A cause id to list first when this pattern is found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// What a pattern does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PatternRole {
    /// Finding it makes the entry match.
    #[default]
    Match,
    /// Finding it only captures values or reorders causes.
    Context,
}

/// A possible cause.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Cause {
    /// Kebab-case id, unique within the entry.
    pub id: String,
    /// The cause in a sentence or two.
    pub text: String,
}

/// An ordered list of steps that addresses some causes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fix {
    /// What the fix achieves.
    pub title: String,
    /// The causes it addresses.
    pub causes: Vec<String>,
    /// What to do, in order.
    pub steps: Vec<Step>,
}

/// One step of a fix.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// What to do, in a sentence.
    pub action: String,
    /// The exact command, with `<PascalCase>` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Where the command runs (`exchange-management-shell`, `bash`, `admin-center` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
    /// What the admin should see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
    /// Who acts: `sender`, `sender-admin`, `recipient-admin`, `helpdesk`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
}

/// A source for the entry's facts.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// What the page is.
    pub title: String,
    /// An https URL.
    pub url: String,
}

/// The entry's own proof.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Samples {
    /// Texts this entry must match and rank first.
    #[serde(default, rename = "match")]
    pub matches: Vec<Sample>,
    /// Texts this entry must not match.
    #[serde(default)]
    pub no_match: Vec<Sample>,
    /// Known gaps: texts that should match but do not yet; reported, never failing.
    #[serde(default)]
    pub todo_match: Vec<Sample>,
}

/// One sample text.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// Short kebab-case name.
    pub name: String,
    /// The input kind the text is written as (`ndr-text`, `get-queue`, `protocol-log`,
    /// `smtp-line`); the text is read by that reader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The raw text.
    pub text: String,
    /// Values the match must capture.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub captures: BTreeMap<String, String>,
}

/// The bounce-reason vocabulary (DESIGN.md §5), with the reference names of open bounce
/// analyzers (mesgtoobig, exceedlimit, toomanyconn, speeding).
pub const CATEGORIES: &[&str] = &[
    "authfailure",
    "badreputation",
    "blocked",
    "contenterror",
    "delivered",
    "exceedlimit",
    "expired",
    "failedstarttls",
    "feedback",
    "filtered",
    "hasmoved",
    "hostunknown",
    "mailboxfull",
    "mailererror",
    "mesgtoobig",
    "networkerror",
    "norelaying",
    "notaccept",
    "notcompliantrfc",
    "onhold",
    "policyviolation",
    "ratelimited",
    "rejected",
    "requireptr",
    "securityerror",
    "spamdetected",
    "speeding",
    "suppressed",
    "suspend",
    "syntaxerror",
    "systemerror",
    "systemfull",
    "toomanyconn",
    "undefined",
    "userunknown",
    "vacation",
    "virusdetected",
];
