//! Bounce-reason categories from the words of an error, when no knowledge entry matches it.
//! The rules are data (`formats/reasons.yaml`); each rule is one pattern, compiled on first
//! use like a knowledge entry's (quickly first, as a full regex once it is hot).

use std::sync::LazyLock;

use crate::kb::{CompiledPattern, Pattern, PatternRole};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rules {
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    category: String,
    patterns: Vec<String>,
}

struct Compiled {
    /// One pattern per rule (its patterns joined as alternatives), in rule order.
    rules: Vec<(String, CompiledPattern)>,
}

static RULES: LazyLock<Compiled> = LazyLock::new(|| {
    // The file is embedded and checked by the tests: a broken file is a build defect.
    let rules: Rules =
        serde_json::from_str(crate::formats::REASONS).expect("formats/reasons.yaml is valid");
    let rules = rules
        .rules
        .into_iter()
        .map(|r| {
            let joined = r
                .patterns
                .iter()
                .map(|p| format!("(?:{p})"))
                .collect::<Vec<_>>()
                .join("|");
            let p = Pattern {
                regex: joined,
                role: PatternRole::Match,
                cause: None,
            };
            let compiled =
                CompiledPattern::new(&p, None).expect("formats/reasons.yaml patterns parse");
            (r.category, compiled)
        })
        .collect();
    Compiled { rules }
});

/// The category the first matching rule gives `text`, if any. Rules whose literal prefixes do
/// not occur in the text are not run.
pub fn classify(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    RULES
        .rules
        .iter()
        .filter(|(_, p)| {
            p.prefixes
                .as_ref()
                .is_none_or(|ps| ps.iter().any(|l| lower.contains(l.as_str())))
        })
        .find(|(_, p)| p.find(text).is_some())
        .map(|(c, _)| c.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::CATEGORIES;

    #[test]
    fn rules_load_and_use_known_categories() {
        for (cat, p) in &RULES.rules {
            assert!(CATEGORIES.contains(&cat.as_str()), "unknown category {cat}");
            assert!(p.compiles(), "rule for {cat} does not compile");
        }
    }

    #[test]
    fn specific_before_general() {
        assert_eq!(classify("552 5.2.2 Mailbox full"), Some("mailboxfull"));
        assert_eq!(
            classify("550 5.1.1 <a@example.com>... User Unknown"),
            Some("userunknown")
        );
        assert_eq!(
            classify("554 5.7.1 Relay access denied"),
            Some("norelaying")
        );
        assert_eq!(
            classify("Host or domain name not found"),
            Some("hostunknown")
        );
        assert_eq!(classify("retry timeout exceeded"), Some("expired"));
        assert_eq!(classify("hello"), None);
    }
}
