//! Literal prefixes of a regex, for the prefilter. One file shared by the library and
//! `build.rs` (through `#[path]`), so that build-time and run-time prefixes always agree.

/// Lowercased ASCII literals one of which starts every match of `regex` (`Ok(None)` when
/// there is no such finite set); an error naming the problem when the regex does not parse.
pub fn prefixes_of(regex: &str) -> Result<Option<Vec<String>>, String> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(regex)
        .map_err(|e| e.to_string().lines().last().unwrap_or("").trim().to_owned())?;
    let mut extractor = Extractor::new();
    extractor.kind(ExtractKind::Prefix);
    let seq = extractor.extract(&hir);
    let Some(lits) = seq.literals() else {
        return Ok(None);
    };
    let mut out: Vec<String> = Vec::new();
    for l in lits {
        let Ok(text) = std::str::from_utf8(l.as_bytes()) else {
            return Ok(None);
        };
        // Empty or non-ASCII prefixes cannot be searched ASCII-case-insensitively.
        if text.is_empty() || !text.is_ascii() {
            return Ok(None);
        }
        let lower = text.to_ascii_lowercase();
        if !out.contains(&lower) {
            out.push(lower);
        }
    }
    Ok(Some(out))
}
