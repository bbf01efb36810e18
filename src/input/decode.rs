//! Turning raw bytes into text: UTF-8, UTF-16 LE/BE with or without BOM (what Windows
//! PowerShell's `>` writes), Windows-1252 for the rest; CRLF and CR become LF; binary junk is
//! refused with a message that says so.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};

use crate::error::{Error, ErrorKind, Result};

/// Decodes `bytes` into text with `\n` line ends. `source` names the input in errors.
pub fn decode(bytes: &[u8], source: &str) -> Result<String> {
    let (encoding, body): (Option<&'static Encoding>, &[u8]) =
        if let Some((enc, bom)) = Encoding::for_bom(bytes) {
            (Some(enc), &bytes[bom..])
        } else {
            (sniff_utf16(bytes), bytes)
        };
    let text = match encoding {
        Some(enc) => enc.decode_without_bom_handling(body).0.into_owned(),
        None => match std::str::from_utf8(body) {
            Ok(s) => s.to_owned(),
            Err(_) => {
                refuse_binary(body, source)?;
                WINDOWS_1252
                    .decode_without_bom_handling(body)
                    .0
                    .into_owned()
            }
        },
    };
    refuse_binary(text.as_bytes(), source)?;
    let text = normalize_newlines(&text);
    if text.trim().is_empty() {
        return Err(Error::new(
            ErrorKind::Input,
            format!(
                "{source}: the input is empty: paste an NDR, a Get-Queue output, a protocol log or an SMTP reply"
            ),
        ));
    }
    Ok(text)
}

/// UTF-16 without a BOM: most ASCII text then has a NUL in every other byte.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let even_nul = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_nul = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    if odd_nul * 10 > pairs * 7 && even_nul * 10 < pairs {
        Some(UTF_16LE)
    } else if even_nul * 10 > pairs * 7 && odd_nul * 10 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Refuses input whose first 8 KiB hold NUL bytes or many other control bytes.
fn refuse_binary(bytes: &[u8], source: &str) -> Result<()> {
    let sample = &bytes[..bytes.len().min(8192)];
    let control = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c))
        .count();
    // A stray NUL or control byte occurs in real mail; binary data has many.
    let nul = sample.iter().filter(|&&b| b == 0).count();
    if nul * 100 > sample.len().max(1) || control * 100 > sample.len().max(1) * 5 {
        return Err(Error::new(
            ErrorKind::Input,
            format!(
                "{source}: this looks like binary data ({control} control bytes in the first {} bytes), not text; \
                 save the NDR, queue output or log as text (UTF-8 or UTF-16) and try again",
                sample.len()
            ),
        ));
    }
    Ok(())
}

fn normalize_newlines(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_owned();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16le_with_bom_as_powershell_writes_it() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "LastError : 421 4.4.2\r\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&bytes, "-").unwrap(), "LastError : 421 4.4.2\n");
    }

    #[test]
    fn utf16le_without_bom() {
        let bytes: Vec<u8> = "550 5.1.1 not found"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(decode(&bytes, "-").unwrap(), "550 5.1.1 not found");
    }

    #[test]
    fn invalid_utf8_falls_back_to_windows_1252() {
        assert_eq!(
            decode(b"Empf\xe4nger 550 5.1.1", "-").unwrap(),
            "Empfänger 550 5.1.1"
        );
    }

    #[test]
    fn cr_only_and_crlf_become_lf() {
        assert_eq!(decode(b"a\rb\r\nc", "-").unwrap(), "a\nb\nc");
    }

    #[test]
    fn binary_and_empty_are_refused_with_the_source_named() {
        let err = decode(
            &[0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 3, 4, 0, 0, 0, 0],
            "a.out",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("a.out: this looks like binary data")
        );
        let err = decode(b"  \n", "-").unwrap_err();
        assert!(err.to_string().contains("the input is empty"));
    }
}
