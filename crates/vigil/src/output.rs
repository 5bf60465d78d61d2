//! Rendering rows for people (aligned table) and machines (JSON, NDJSON,
//! CSV). Commands compute values; this module only formats them.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::cli::OutputFormat;

/// Something that can be shown as one table row.
pub trait Row: Serialize {
    /// Column headers.
    fn headers() -> &'static [&'static str];
    /// Cells, in header order.
    fn cells(&self) -> Vec<String>;
}

/// Writes rows to stdout in the chosen format.
pub fn print<R: Row>(rows: &[R], format: OutputFormat) -> Result<()> {
    let mut out = std::io::stdout().lock();
    render(&mut out, rows, format)?;
    out.flush()?;
    Ok(())
}

/// Writes rows to `w` in the chosen format.
pub fn render<R: Row>(w: &mut impl Write, rows: &[R], format: OutputFormat) -> Result<()> {
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *w, rows)?;
            writeln!(w)?;
        }
        OutputFormat::Ndjson => {
            for r in rows {
                serde_json::to_writer(&mut *w, r)?;
                writeln!(w)?;
            }
        }
        OutputFormat::Csv => {
            writeln!(
                w,
                "{}",
                R::headers()
                    .iter()
                    .map(|h| csv_cell(h))
                    .collect::<Vec<_>>()
                    .join(",")
            )?;
            for r in rows {
                writeln!(
                    w,
                    "{}",
                    r.cells()
                        .iter()
                        .map(|c| csv_cell(c))
                        .collect::<Vec<_>>()
                        .join(",")
                )?;
            }
        }
        OutputFormat::Table => table(w, R::headers(), rows.iter().map(Row::cells).collect())?,
    }
    Ok(())
}

fn csv_cell(s: &str) -> String {
    // Cells starting with = + - @ are prefixed so spreadsheets do not run them.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn table(w: &mut impl Write, headers: &[&str], rows: Vec<Vec<String>>) -> Result<()> {
    const MAX: usize = 60;
    let clip = |s: &str| -> String {
        let one_line: String = s
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if one_line.chars().count() > MAX {
            let mut t: String = one_line.chars().take(MAX - 1).collect();
            t.push('…');
            t
        } else {
            one_line
        }
    };
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| clip(c)).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(wd) = widths.get_mut(i) {
                *wd = (*wd).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let wd = widths.get(i).copied().unwrap_or(0);
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(wd.saturating_sub(c.chars().count()) + 2));
            }
        }
        s
    };
    writeln!(
        w,
        "{}",
        line(headers.iter().map(|h| h.to_uppercase()).collect())
    )?;
    for r in rows {
        writeln!(w, "{}", line(r))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct T {
        a: String,
        b: u32,
    }
    impl Row for T {
        fn headers() -> &'static [&'static str] {
            &["a", "b"]
        }
        fn cells(&self) -> Vec<String> {
            vec![self.a.clone(), self.b.to_string()]
        }
    }

    fn check(format: OutputFormat, expect: &str) {
        let rows = [
            T {
                a: "x,y".into(),
                b: 1,
            },
            T {
                a: "=cmd".into(),
                b: 22,
            },
        ];
        let mut out = Vec::new();
        render(&mut out, &rows, format).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), expect);
    }

    #[test]
    fn formats() {
        check(OutputFormat::Table, "A     B\nx,y   1\n=cmd  22\n");
        check(OutputFormat::Csv, "a,b\n\"x,y\",1\n'=cmd,22\n");
        check(
            OutputFormat::Ndjson,
            "{\"a\":\"x,y\",\"b\":1}\n{\"a\":\"=cmd\",\"b\":22}\n",
        );
    }
}
