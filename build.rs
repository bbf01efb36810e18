//! Embeds `knowledge/` in the binary. Each entry is stored twice: its YAML (what `ndr check`
//! and error messages point into) and, when it parses, the same entry as JSON, which loads
//! about twenty times faster than YAML at every start of the program. An entry that does not
//! parse here is still embedded; loading it at run time reports the problem with its line.

#[path = "src/kb/prefix.rs"]
mod prefix;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("knowledge");
    println!("cargo:rerun-if-changed=knowledge");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut out = String::from("&[\n");
    for path in files {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let yaml = std::fs::read_to_string(&path).unwrap_or_default();
        let value = serde_saphyr::from_str::<serde_json::Value>(&yaml)
            .ok()
            .filter(|v| v.is_object());
        let json = value.as_ref().map(|v| v.to_string());
        // What matching needs, so that a full entry is parsed only when it is shown.
        let index = value.as_ref().map(|v| {
            let mut m = serde_json::Map::new();
            for key in ["id", "role", "codes", "tokens", "patterns"] {
                if let Some(x) = v.get(key) {
                    m.insert(key.to_owned(), x.clone());
                }
            }
            serde_json::Value::Object(m).to_string()
        });
        // The literal prefixes of every pattern, for the prefilter (see kb::CompiledPattern).
        let prefixes: Vec<Option<Vec<String>>> = value
            .as_ref()
            .and_then(|v| v.get("patterns"))
            .and_then(|p| p.as_array())
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        p.get("regex")
                            .and_then(|r| r.as_str())
                            .and_then(|r| prefix::prefixes_of(r).ok().flatten())
                    })
                    .collect()
            })
            .unwrap_or_default();
        writeln!(
            out,
            "    EmbeddedFile {{ relative: {rel:?}, yaml: include_str!({:?}), json: {json:?}, index: {index:?}, prefixes: &{} }},",
            path.display(),
            rust_prefixes(&prefixes)
        )
        .unwrap();
    }
    out.push_str("]\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out_dir.join("knowledge.rs"), out).unwrap();

    // `formats/*.yaml` as JSON: read at every start, so parsed at build time. A file that
    // does not parse fails the build, naming it.
    println!("cargo:rerun-if-changed=formats");
    let formats = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("formats");
    let mut consts = String::new();
    for name in ["reasons", "text", "ndr"] {
        let path = formats.join(format!("{name}.yaml"));
        let yaml =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let value: serde_json::Value =
            serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        writeln!(
            consts,
            "pub const {}: &str = {:?};",
            name.to_uppercase(),
            value.to_string()
        )
        .unwrap();
    }
    std::fs::write(out_dir.join("formats.rs"), consts).unwrap();
}

fn rust_prefixes(all: &[Option<Vec<String>>]) -> String {
    let items: Vec<String> = all
        .iter()
        .map(|p| match p {
            Some(v) => format!("Some(&{v:?})"),
            None => "None".to_owned(),
        })
        .collect();
    format!("[{}]", items.join(", "))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for e in read.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}
