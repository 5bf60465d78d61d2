//! A small RFC 4180 CSV reader (quoted fields, doubled quotes, newlines
//! inside quotes) for asset lists, KEV and EPSS files; `#` comment lines
//! before the header are skipped.

/// One record with the 1-based line it starts on.
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Splits `text` into records. An unterminated quote ends the file's last
/// record (reported by the caller through a field-count mismatch).
pub fn records(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut start = 1;
    let mut at_field_start = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cur.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    cur.push(c);
                }
                _ => cur.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                in_quotes = true;
                at_field_start = false;
            }
            ',' => {
                fields.push(std::mem::take(&mut cur));
                at_field_start = true;
            }
            '\r' => {}
            '\n' => {
                fields.push(std::mem::take(&mut cur));
                push(&mut out, start, std::mem::take(&mut fields));
                line += 1;
                start = line;
                at_field_start = true;
            }
            _ => {
                cur.push(c);
                at_field_start = false;
            }
        }
    }
    if !cur.is_empty() || !fields.is_empty() {
        fields.push(cur);
        push(&mut out, start, fields);
    }
    out
}

fn push(out: &mut Vec<Record>, line: usize, fields: Vec<String>) {
    let blank = fields.iter().all(|f| f.trim().is_empty());
    let comment = out.is_empty() && fields.first().is_some_and(|f| f.starts_with('#'));
    if !blank && !comment {
        out.push(Record { line, fields });
    }
}

/// The index of the first header matching one of `names` (case-insensitive).
pub fn column(header: &[String], names: &[&str]) -> Option<usize> {
    header
        .iter()
        .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_and_comments() {
        let r = records("#model_version:v1\ncve,epss\nCVE-1,\"a, \"\"b\"\"\nc\"\n\nCVE-2,0.5");
        let got: Vec<String> = r
            .iter()
            .map(|r| format!("{}:{}", r.line, r.fields.join("|")))
            .collect();
        assert_eq!(got, ["2:cve|epss", "3:CVE-1|a, \"b\"\nc", "6:CVE-2|0.5"]);
    }
}
