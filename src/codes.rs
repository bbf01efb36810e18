//! SMTP reply codes (RFC 5321) and enhanced status codes (RFC 3463, RFC 5248 registry):
//! finding them anywhere in text, and what every class, subject and detail means, so that any
//! code is explained even when no knowledge entry knows it.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Serialize, Serializer};

/// An enhanced status code `class.subject.detail`, e.g. `5.1.1` or Exchange's `4.4.397`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnhancedCode {
    /// 2 success, 4 persistent transient failure, 5 permanent failure.
    pub class: u8,
    /// What the code is about: 1 address, 2 mailbox, 3 system, 4 network, 5 protocol, 6
    /// content, 7 policy/security.
    pub subject: u16,
    /// The detail within the subject.
    pub detail: u16,
}

impl EnhancedCode {
    /// The RFC 3463 subject as a knowledge-base family folder name.
    pub fn family(&self) -> &'static str {
        family_of_subject(self.subject)
    }

    /// True for class 5, which RFC 3463 defines as a permanent failure.
    pub fn is_permanent(&self) -> bool {
        self.class == 5
    }
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

impl Serialize for EnhancedCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl FromStr for EnhancedCode {
    type Err = ();

    /// Parses exactly `c.s.d` with class 2, 4 or 5 and up to three digits per part.
    fn from_str(s: &str) -> Result<Self, ()> {
        let mut parts = s.split('.');
        let (Some(c), Some(sj), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(());
        };
        let ok = |p: &str| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit());
        if c.len() != 1 || !ok(sj) || !ok(d) {
            return Err(());
        }
        let class: u8 = c.parse().map_err(|_| ())?;
        if !matches!(class, 2 | 4 | 5) {
            return Err(());
        }
        Ok(EnhancedCode {
            class,
            subject: sj.parse().map_err(|_| ())?,
            detail: d.parse().map_err(|_| ())?,
        })
    }
}

/// The family folder (RFC 3463 subject name) for a subject number.
pub fn family_of_subject(subject: u16) -> &'static str {
    match subject {
        1 => "address",
        2 => "mailbox",
        3 => "system",
        4 => "network",
        5 => "protocol",
        6 => "content",
        7 => "policy",
        _ => "other",
    }
}

/// One code found in text: a reply code, an enhanced code, or both side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeHit {
    /// The three-digit SMTP reply code, when one stands right before the enhanced code or at
    /// the start of a reply.
    pub reply: Option<u16>,
    /// The enhanced status code.
    pub status: Option<EnhancedCode>,
    /// Byte offset of the hit in the scanned text.
    pub start: usize,
}

/// Dotted number runs; a run is an enhanced code only when it has exactly three parts, so
/// IPv4 addresses and version numbers are never mistaken for codes.
static DOTTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d+(?:\.\d+)+").unwrap());
/// A reply code right before an enhanced code: `550 5.1.1`, `550-5.1.1`, `550=5.1.1`.
static REPLY_BEFORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\d.])([2-5][0-5]\d)[ \-=]$").unwrap());
/// A reply code opening a reply with no enhanced code: `421 Refused`, `#550 `, `smtp;550 `.
static REPLY_ONLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?:^|[\s#;'"(\[<:=])([2-5][0-5]\d)(?:[ \-]|$)"#).unwrap());

/// Finds every enhanced code in `text`, each with the reply code written right before it.
pub fn scan(text: &str) -> Vec<CodeHit> {
    let mut hits = Vec::new();
    for m in DOTTED.find_iter(text) {
        let Ok(status) = m.as_str().parse::<EnhancedCode>() else {
            continue;
        };
        // A run glued to a letter or a dot before it ("v5.1.1", ".5.1.1") is not a code.
        if let Some(prev) = text[..m.start()].chars().next_back()
            && (prev.is_ascii_alphabetic() || prev == '.')
        {
            continue;
        }
        let before = &text[m.start().saturating_sub(5)..m.start()];
        let reply = if before.is_char_boundary(0) {
            REPLY_BEFORE
                .captures(before)
                .and_then(|c| c[1].parse::<u16>().ok())
        } else {
            None
        };
        hits.push(CodeHit {
            reply,
            status: Some(status),
            start: m.start(),
        });
    }
    hits
}

/// The first code of a reply text: its enhanced code with the reply code before it, else a
/// leading reply code alone (within the first characters, as in `421 Refused` or `#550 `).
pub fn first_code(text: &str) -> (Option<u16>, Option<EnhancedCode>) {
    let hits = scan(text);
    if let Some(hit) = hits.first() {
        if hit.reply.is_some() {
            return (hit.reply, hit.status);
        }
        // Exchange 2010 writes `#< #5.1.1 smtp;550 5.1.1 …`: the reply stands at a later
        // mention of the same code.
        let reply = hits
            .iter()
            .find(|h| h.status == hit.status && h.reply.is_some())
            .and_then(|h| h.reply)
            .or_else(|| leading_reply(&text[..hit.start]));
        return (reply, hit.status);
    }
    (leading_reply(text), None)
}

/// A reply code near the start of `text` (within 40 bytes), e.g. `550 Requested action…`.
pub fn leading_reply(text: &str) -> Option<u16> {
    let mut end = text.len().min(40);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    REPLY_ONLY
        .captures(&text[..end])
        .and_then(|c| c[1].parse().ok())
}

/// A code as a user types it to `ndr show`: `5.4.300`, `550 5.4.300`, `#5.4.300`, `550`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeQuery {
    /// The reply code, when given.
    pub reply: Option<u16>,
    /// The enhanced code, when given.
    pub status: Option<EnhancedCode>,
}

impl CodeQuery {
    /// Parses a query; `None` when the text is not a code at all.
    pub fn parse(text: &str) -> Option<CodeQuery> {
        let t = text.trim().trim_start_matches('#').trim();
        let mut reply = None;
        let mut status = None;
        for part in t.split([' ', '-']).filter(|p| !p.is_empty()) {
            if let Ok(s) = part.parse::<EnhancedCode>() {
                if status.is_some() {
                    return None;
                }
                status = Some(s);
            } else if part.len() == 3
                && part.bytes().all(|b| b.is_ascii_digit())
                && matches!(part.as_bytes()[0], b'2'..=b'5')
            {
                if reply.is_some() {
                    return None;
                }
                reply = part.parse().ok();
            } else {
                return None;
            }
        }
        (reply.is_some() || status.is_some()).then_some(CodeQuery { reply, status })
    }
}

/// What a class digit says (RFC 3463 §3.1).
pub fn class_meaning(class: u8) -> &'static str {
    match class {
        2 => "Success: the action was completed.",
        4 => {
            "Persistent transient failure: the same message may succeed later; the sender keeps retrying until it expires."
        }
        5 => "Permanent failure: resending the same message unchanged will fail again.",
        _ => "Unknown class.",
    }
}

/// What a subject number covers (RFC 3463 §3.2).
pub fn subject_meaning(subject: u16) -> &'static str {
    match subject {
        0 => "Other or undefined status",
        1 => "Addressing: the sender or recipient address",
        2 => "Mailbox: the recipient's mailbox",
        3 => "Mail system: the receiving host as a whole",
        4 => "Network and routing: reaching the next hop",
        5 => "Mail delivery protocol: the SMTP dialogue",
        6 => "Message content or media",
        7 => "Security or policy",
        _ => "Unregistered subject",
    }
}

/// The registered meaning of a subject and detail (RFC 3463 and the IANA registry of
/// RFC 5248), in this project's words; `None` for unregistered ones such as Exchange's
/// three-digit details.
pub fn detail_meaning(subject: u16, detail: u16) -> Option<&'static str> {
    DETAILS
        .iter()
        .find(|(s, d, _)| *s == subject && *d == detail)
        .map(|(_, _, m)| *m)
}

const DETAILS: &[(u16, u16, &str)] = &[
    (
        0,
        0,
        "Undefined status; the text that follows is the only explanation",
    ),
    (1, 0, "Something about an address is wrong"),
    (
        1,
        1,
        "The recipient mailbox does not exist at the destination",
    ),
    (
        1,
        2,
        "The destination system in the address does not exist or cannot take mail",
    ),
    (1, 3, "The recipient address is not syntactically valid"),
    (1, 4, "The recipient address matches more than one mailbox"),
    (1, 5, "The recipient address is valid"),
    (
        1,
        6,
        "The mailbox has moved and no forwarding address is known",
    ),
    (1, 7, "The sender address is not syntactically valid"),
    (
        1,
        8,
        "The sender's domain does not exist or cannot receive replies",
    ),
    (
        1,
        9,
        "The message was relayed to a mailer that does not support the requested features",
    ),
    (
        1,
        10,
        "The recipient domain publishes a null MX: it accepts no mail",
    ),
    (
        2,
        0,
        "Something about the recipient mailbox prevents delivery",
    ),
    (2, 1, "The mailbox is disabled and accepts no messages"),
    (2, 2, "The mailbox is full"),
    (2, 3, "The message is larger than this mailbox accepts"),
    (2, 4, "A mailing list could not be expanded"),
    (3, 0, "The destination mail system has a problem"),
    (3, 1, "The destination mail system has run out of storage"),
    (
        3,
        2,
        "The destination system is not accepting network messages now",
    ),
    (
        3,
        3,
        "The destination cannot handle a feature the message needs",
    ),
    (3, 4, "The message is larger than the system accepts"),
    (3, 5, "The destination mail system is misconfigured"),
    (3, 6, "The message priority was changed"),
    (
        4,
        0,
        "Something went wrong reaching or routing to the next hop",
    ),
    (4, 1, "The next hop did not answer the connection"),
    (
        4,
        2,
        "The connection was made but dropped before delivery completed",
    ),
    (4, 3, "A directory or DNS lookup needed for routing failed"),
    (4, 4, "No route to the destination could be found"),
    (4, 5, "The mail system is congested"),
    (4, 6, "The message is looping between systems"),
    (
        4,
        7,
        "The message was not delivered before its delivery time expired",
    ),
    (5, 0, "The SMTP dialogue failed"),
    (5, 1, "A command was not recognised or not allowed"),
    (5, 2, "A command had a syntax error"),
    (5, 3, "The message had more recipients than accepted"),
    (5, 4, "A command argument was not valid"),
    (5, 5, "The protocol versions do not match"),
    (5, 6, "An authentication exchange line was too long"),
    (
        6,
        0,
        "Something about the message content prevents delivery",
    ),
    (
        6,
        1,
        "The message uses a media type the destination does not support",
    ),
    (
        6,
        2,
        "The content needed conversion, but conversion was forbidden",
    ),
    (6, 3, "The content needed a conversion the system cannot do"),
    (6, 4, "The content was converted and something was lost"),
    (6, 5, "Converting the content failed"),
    (6, 6, "The message content is no longer available"),
    (
        6,
        7,
        "Non-ASCII addresses are not allowed for this sender or recipient",
    ),
    (
        6,
        8,
        "A UTF-8 reply is required but the client does not allow it",
    ),
    (6, 9, "A UTF-8 header cannot be passed to some recipients"),
    (6, 10, "Deprecated duplicate of X.6.8"),
    (7, 0, "A security or policy rule prevents delivery"),
    (
        7,
        1,
        "The sender is not authorised to send to this destination",
    ),
    (7, 2, "The sender may not expand this mailing list"),
    (7, 3, "A security conversion is required but not possible"),
    (
        7,
        4,
        "A security feature the message needs is not supported",
    ),
    (7, 5, "A cryptographic operation failed"),
    (7, 6, "The cryptographic algorithm is not supported"),
    (7, 7, "The message failed an integrity check"),
    (7, 8, "The authentication credentials were rejected"),
    (7, 9, "The authentication mechanism is too weak"),
    (7, 10, "Encryption is needed for this operation"),
    (
        7,
        11,
        "This authentication mechanism needs an encrypted connection",
    ),
    (7, 12, "The password must be changed before use"),
    (7, 13, "The user account is disabled"),
    (7, 14, "A trust relationship is required"),
    (7, 15, "The message priority is too low"),
    (7, 16, "The message is too big for its priority"),
    (7, 17, "The mailbox owner has changed"),
    (7, 18, "The domain owner has changed"),
    (
        7,
        19,
        "The require-recipient-valid-since test cannot be completed",
    ),
    (7, 20, "No passing DKIM signature was found"),
    (7, 21, "No acceptable DKIM signature was found"),
    (
        7,
        22,
        "No valid DKIM signature aligned with the author was found",
    ),
    (7, 23, "The sender failed SPF validation"),
    (7, 24, "SPF validation could not be completed"),
    (7, 25, "The sending IP failed reverse DNS validation"),
    (7, 26, "Several sender authentication checks failed"),
    (7, 27, "The sender's domain publishes a null MX"),
    (7, 28, "The sender is flooding the destination"),
    (7, 29, "ARC validation failed"),
    (
        7,
        30,
        "The message requires TLS all the way (REQUIRETLS) and a hop does not support it",
    ),
];

/// What an SMTP reply code means (RFC 5321 §4.2, RFC 3207, RFC 4954, RFC 7504).
pub fn reply_meaning(reply: u16) -> &'static str {
    match reply {
        211 | 214 => "System status or help reply",
        220 => "Service ready",
        221 => "Service closing the connection",
        235 => "Authentication succeeded",
        250 => "Requested action completed",
        251 => "User not local; the server will forward",
        252 => "Cannot verify the user, but will accept the message",
        354 => "Start the message body",
        421 => "Service not available; the server is closing the connection",
        432 => "A password transition is needed",
        450 => "Mailbox unavailable for now (busy, or blocked by policy); try again later",
        451 => "Local error in processing; try again later",
        452 => "Insufficient system storage, or too many recipients; try again later",
        454 => "Temporary authentication failure, or TLS not available",
        455 => "Server cannot accommodate the parameters now",
        500 => "Syntax error: command not recognised",
        501 => "Syntax error in parameters or arguments",
        502 => "Command not implemented",
        503 => "Bad sequence of commands",
        504 => "Command parameter not implemented",
        521 => "This host does not accept mail",
        523 => "The message is larger than the server accepts",
        530 => "Authentication required (or STARTTLS must come first)",
        534 => "Authentication mechanism is too weak",
        535 => "Authentication credentials invalid",
        538 => "Encryption required for this authentication mechanism",
        550 => "Mailbox unavailable or action refused (no such user, or refused by policy)",
        551 => "User not local; the message was not forwarded",
        552 => "Exceeded storage allocation or message size limit",
        553 => "Mailbox name not allowed (address syntax or sender refused)",
        554 => "Transaction failed (often: refused by policy)",
        555 => "MAIL FROM or RCPT TO parameters not recognised",
        556 => "The domain does not accept mail",
        _ => match reply / 100 {
            2 => "Positive completion",
            3 => "Positive intermediate reply",
            4 => "Transient negative reply: the sender should retry",
            5 => "Permanent negative reply: retrying will not help",
            _ => "Unknown reply code",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> EnhancedCode {
        s.parse().unwrap()
    }

    #[test]
    fn finds_codes_with_their_reply_codes_in_a_chain() {
        let hits = scan(
            "550 5.4.300 Message expired -> 451 4.4.397 Error communicating with target host. -> 421 4.4.2 Connection dropped",
        );
        let got: Vec<_> = hits
            .iter()
            .map(|h| (h.reply, h.status.unwrap().to_string()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some(550), "5.4.300".to_string()),
                (Some(451), "4.4.397".to_string()),
                (Some(421), "4.4.2".to_string())
            ]
        );
    }

    #[test]
    fn ip_addresses_and_versions_are_not_codes() {
        assert!(scan("connect to 10.5.4.1 failed, TLS 1.2, v5.1.1, 192.0.2.1").is_empty());
    }

    #[test]
    fn multiline_gmail_reply_keeps_the_reply_code() {
        let (reply, status) = first_code("550-5.1.1 The email account that you tried to reach");
        assert_eq!((reply, status), (Some(550), Some(code("5.1.1"))));
    }

    #[test]
    fn exchange_2010_form_finds_the_reply_after_smtp() {
        let (reply, status) = first_code("#< #5.1.1 smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound");
        assert_eq!(status, Some(code("5.1.1")));
        assert_eq!(reply, Some(550));
    }

    #[test]
    fn reply_only_lines() {
        assert_eq!(
            first_code("421 Refused. Your reverse DNS entry"),
            (Some(421), None)
        );
        assert_eq!(first_code("no code here"), (None, None));
    }

    #[test]
    fn queries_in_every_spelling() {
        let q = |s| CodeQuery::parse(s);
        assert_eq!(q("5.4.300").unwrap().status, Some(code("5.4.300")));
        assert_eq!(q("#5.4.300").unwrap().status, Some(code("5.4.300")));
        let both = q("550 5.4.300").unwrap();
        assert_eq!(
            (both.reply, both.status),
            (Some(550), Some(code("5.4.300")))
        );
        assert_eq!(q("550").unwrap().reply, Some(550));
        assert!(q("exch-4-4-2-connection-dropped").is_none());
        assert!(q("1.2.3").is_none());
    }

    #[test]
    fn meanings_exist_for_every_registered_subject() {
        assert_eq!(
            detail_meaning(4, 7).unwrap(),
            "The message was not delivered before its delivery time expired"
        );
        assert!(detail_meaning(4, 397).is_none());
        assert_eq!(code("4.4.397").family(), "network");
        assert!(reply_meaning(550).contains("Mailbox unavailable"));
    }
}
