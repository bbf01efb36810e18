//! Error chains: `A -> B -> C`, and the ways Exchange nests one reply inside another
//! (`responded with: "…"`, `[Message=…]`, a trailing `(451 5.7.3 …)`), split into links,
//! outermost first. The innermost link is usually the root cause.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::codes::{self, EnhancedCode};

/// One link of an error chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The SMTP reply code of this link, as text (`"451"`), when it has one.
    #[serde(serialize_with = "ser_reply")]
    pub reply_code: Option<u16>,
    /// The enhanced status code of this link.
    pub status: Option<EnhancedCode>,
    /// The text of this link, trimmed.
    pub text: String,
}

fn ser_reply<S: serde::Serializer>(v: &Option<u16>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(r) => s.collect_str(r),
        None => s.serialize_none(),
    }
}

impl Link {
    fn new(text: &str) -> Link {
        let text = text
            .trim()
            .trim_matches(|c: char| c == '\'' || c == '"' || c == ',')
            .trim();
        let (reply_code, status) = codes::first_code(text);
        Link {
            reply_code,
            status,
            text: text.to_owned(),
        }
    }
}

/// Markers after which Exchange quotes the reply it got from the next hop.
static NESTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i-u:responded with:)\s*"(?P<q>[^"]+)"|\[(?i-u:message)=(?P<m>[^\]]+)\]|\((?P<p>[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3}[^()]*)\)\s*$"#,
    )
    .unwrap()
});

/// The most links a chain is split into.
pub const MAX_LINKS: usize = 32;

/// Splits an error text into links, outermost first. A text without a chain is one link.
pub fn split(text: &str) -> Vec<Link> {
    let mut links: Vec<Link> = Vec::new();
    // Real chains have a handful of links; a runaway text is not split further.
    for piece in text.splitn(MAX_LINKS, "->") {
        if piece.trim().is_empty() {
            continue;
        }
        push_nested(piece, &mut links, 0);
    }
    if links.is_empty() {
        links.push(Link::new(text));
    }
    links
}

fn push_nested(piece: &str, links: &mut Vec<Link>, depth: usize) {
    let inner = if depth < 4 {
        NESTED.captures(piece).and_then(|c| {
            let m = c.name("q").or(c.name("m")).or(c.name("p"))?;
            let whole = c.get(0)?;
            Some((whole.start(), m.as_str().to_owned()))
        })
    } else {
        None
    };
    match inner {
        Some((start, inner_text)) => {
            let outer = Link::new(&piece[..start]);
            if !outer.text.is_empty() {
                links.push(outer);
            }
            // `[Message=X] … (X)` repeats the same inner reply: keep it once.
            if links.last().map(|l| l.text.as_str()) != Some(inner_text.trim()) {
                push_nested(&inner_text, links, depth + 1);
            }
        }
        None => {
            let link = Link::new(piece);
            if !link.text.is_empty() && links.last() != Some(&link) {
                links.push(link);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        split(s).into_iter().map(|l| l.text).collect()
    }

    #[test]
    fn arrow_chain_outermost_first() {
        let links = split(
            "550 5.4.300 Message expired -> 451 4.4.397 Error communicating with target host. -> 421 4.4.2 Connection dropped due to SocketError",
        );
        assert_eq!(links.len(), 3);
        assert_eq!(links[2].status.unwrap().to_string(), "4.4.2");
        assert_eq!(links[2].reply_code, Some(421));
        assert_eq!(links[0].reply_code, Some(550));
    }

    #[test]
    fn responded_with_quotes_the_inner_reply() {
        let t = texts(
            r#"451 4.4.0 Primary target IP address responded with: "451 5.7.3 STARTTLS is required to send mail." Attempted failover to alternate host, but that did not succeed."#,
        );
        assert_eq!(t[0], "451 4.4.0 Primary target IP address");
        assert_eq!(t[1], "451 5.7.3 STARTTLS is required to send mail.");
    }

    #[test]
    fn message_bracket_and_trailing_parenthesis_are_one_inner_link() {
        let t = texts(
            "450 4.4.317 Cannot connect to remote server [Message=451 5.7.3 STARTTLS is required to send mail] [LastAttemptedServerName=mx.example.com]",
        );
        assert_eq!(
            t,
            vec![
                "450 4.4.317 Cannot connect to remote server",
                "451 5.7.3 STARTTLS is required to send mail"
            ]
        );
        let t = texts(
            "550 5.4.317 Message expired, cannot connect to remote server(451 5.7.3 STARTTLS is required to send mail)",
        );
        assert_eq!(t[1], "451 5.7.3 STARTTLS is required to send mail");
    }

    #[test]
    fn plain_text_is_one_link() {
        assert_eq!(
            texts("550 5.1.1 User unknown"),
            vec!["550 5.1.1 User unknown"]
        );
    }
}
