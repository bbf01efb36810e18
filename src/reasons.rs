//! Bounce-reason categories from the words of an error, when no knowledge entry matches it.
//! The rules are data (`formats/reasons.yaml`), compiled once into one `RegexSet`.

use std::sync::LazyLock;

use regex::{RegexSet, RegexSetBuilder};
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
    set: RegexSet,
    /// The category of each pattern of the set, in order.
    categories: Vec<String>,
}

const SOURCE: &str = include_str!("../formats/reasons.yaml");

static RULES: LazyLock<Compiled> = LazyLock::new(|| {
    // The file is embedded and checked by the tests: a broken file is a build defect.
    let rules: Rules = serde_saphyr::from_str(SOURCE).expect("formats/reasons.yaml parses");
    let mut patterns = Vec::new();
    let mut categories = Vec::new();
    for r in rules.rules {
        for p in r.patterns {
            patterns.push(p);
            categories.push(r.category.clone());
        }
    }
    let set = RegexSetBuilder::new(&patterns)
        .case_insensitive(true)
        .build()
        .expect("formats/reasons.yaml patterns compile");
    Compiled { set, categories }
});

/// The category the first matching rule gives `text`, if any.
pub fn classify(text: &str) -> Option<&'static str> {
    let c = &*RULES;
    c.set
        .matches(text)
        .iter()
        .next()
        .map(|i| c.categories[i].as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::CATEGORIES;

    #[test]
    fn rules_load_and_use_known_categories() {
        let c = &*RULES;
        for cat in &c.categories {
            assert!(CATEGORIES.contains(&cat.as_str()), "unknown category {cat}");
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
