//! `ndr` explains email delivery failures: it reads what people paste or have on disk (NDR
//! bodies, Exchange `Get-Queue` output, protocol logs, bare SMTP replies), finds every
//! delivery error in it, matches each against a knowledge base of error signatures, and
//! renders the root cause and the fix.
//!
//! Data flows one way: **input → findings → matches → explanation → rendering**.
//!
//! ```
//! let kb = ndr::kb::KnowledgeBase::embedded().unwrap();
//! let reading = ndr::input::read(b"421 4.4.2 Connection dropped due to SocketError", "-", None).unwrap();
//! let explanation = ndr::explain::explain(&kb, &reading);
//! assert_eq!(explanation.findings[0].status.as_deref(), Some("4.4.2"));
//! ```

pub mod codes;
/// The `formats/` data files, converted to JSON at build time.
pub(crate) mod formats {
    include!(concat!(env!("OUT_DIR"), "/formats.rs"));
}
pub mod error;
pub mod explain;
pub mod input;
pub mod kb;
pub mod matcher;
pub mod reasons;
pub mod render;
pub mod scan;

pub use error::{Error, ErrorKind, Result};
