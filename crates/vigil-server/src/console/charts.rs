//! SVG charts drawn on the server: plain bars, bars stacked by severity,
//! and one bar per severity. Colours are presentation attributes and
//! classes, never `style` attributes, so the strict CSP holds. Only numbers
//! and fixed labels go into the markup; the caller's title is escaped.

use std::fmt::Write as _;

use minijinja::Value;
use vigil_model::Severity;

const W: f64 = 600.0;
const H: f64 = 160.0;
const PAD: f64 = 24.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn open(title: &str, height: f64) -> String {
    format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {height}\" \
         role=\"img\" aria-label=\"{t}\"><title>{t}</title>",
        t = esc(title)
    )
}

/// The tick value at the top of the axis: `max` rounded up to 1, 2 or 5
/// times a power of ten.
fn nice_max(max: i64) -> i64 {
    if max <= 0 {
        return 1;
    }
    let mut p = 1i64;
    loop {
        for m in [1, 2, 5] {
            if m * p >= max {
                return m * p;
            }
        }
        p = p.saturating_mul(10);
    }
}

fn axis(out: &mut String, top: i64) {
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{PAD}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#8a94a6\"/>\
         <text class=\"tick\" x=\"2\" y=\"12\" font-size=\"10\" fill=\"#5b6473\">{top}</text>\
         <text class=\"tick\" x=\"2\" y=\"{y0}\" font-size=\"10\" fill=\"#5b6473\">0</text>",
        y0 = H - PAD,
        x1 = W - 4.0,
    );
}

/// One bar per value.
pub(crate) fn bars(values: &[i64], title: &str) -> Value {
    let top = nice_max(values.iter().copied().max().unwrap_or(0));
    let mut out = open(title, H);
    axis(&mut out, top);
    let n = values.len().max(1) as f64;
    let slot = (W - PAD - 4.0) / n;
    for (i, v) in values.iter().enumerate() {
        let h = (*v as f64 / top as f64) * (H - 2.0 * PAD);
        let _ = write!(
            out,
            "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"#3b6fd6\"><title>{v}</title></rect>",
            x = PAD + i as f64 * slot + 1.0,
            y = H - PAD - h,
            w = (slot - 2.0).max(1.0),
        );
    }
    out.push_str("</svg>");
    Value::from_safe_string(out)
}

/// The fill of a severity.
pub(crate) fn colour(s: Severity) -> &'static str {
    match s {
        Severity::Informational => "#9aa5b1",
        Severity::Low => "#4c9f70",
        Severity::Medium => "#d8a31a",
        Severity::High => "#e0622a",
        Severity::Critical => "#b3261e",
    }
}

/// One bar per row, stacked by severity (index = severity rank).
pub(crate) fn stacked(rows: &[[i64; 5]], title: &str) -> Value {
    let top = nice_max(rows.iter().map(|r| r.iter().sum()).max().unwrap_or(0));
    let mut out = open(title, H);
    axis(&mut out, top);
    let n = rows.len().max(1) as f64;
    let slot = (W - PAD - 4.0) / n;
    for (i, row) in rows.iter().enumerate() {
        let mut y = H - PAD;
        for (sev, v) in Severity::ALL.iter().zip(row) {
            if *v == 0 {
                continue;
            }
            let h = (*v as f64 / top as f64) * (H - 2.0 * PAD);
            y -= h;
            let _ = write!(
                out,
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{c}\"><title>{v} {s}</title></rect>",
                x = PAD + i as f64 * slot + 1.0,
                w = (slot - 2.0).max(1.0),
                c = colour(*sev),
                s = sev.as_str(),
            );
        }
    }
    out.push_str("</svg>");
    Value::from_safe_string(out)
}

/// Horizontal bars, one per severity (most severe on top).
pub(crate) fn severity_bars(counts: &[i64; 5]) -> Value {
    let top = nice_max(counts.iter().copied().max().unwrap_or(0));
    let row_h = 24.0;
    let height = row_h * 5.0 + 8.0;
    let mut out = open("alerts by severity, last 24 hours", height);
    let label_w = 110.0;
    for (i, (sev, v)) in Severity::ALL.iter().zip(counts).rev().enumerate() {
        let y = 4.0 + i as f64 * row_h;
        let w = (*v as f64 / top as f64) * (W - label_w - 60.0);
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{ty:.1}\" font-size=\"12\" fill=\"#1f2933\">{s}</text>\
             <rect class=\"bar\" x=\"{label_w}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bh}\" fill=\"{c}\"/>\
             <text x=\"{tx:.1}\" y=\"{ty:.1}\" font-size=\"12\" fill=\"#1f2933\">{v}</text>",
            ty = y + 15.0,
            bh = row_h - 6.0,
            c = colour(*sev),
            s = sev.as_str(),
            tx = label_w + w + 6.0,
        );
    }
    out.push_str("</svg>");
    Value::from_safe_string(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_without_style_attributes() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(120), 200);
        for svg in [
            bars(&[1, 2, 3], "a <b>"),
            stacked(&[[1, 0, 2, 0, 1], [0; 5]], "t"),
            severity_bars(&[1, 2, 3, 4, 5]),
        ] {
            let s = svg.to_string();
            assert!(s.starts_with("<svg") && s.ends_with("</svg>"), "{s}");
            assert!(!s.contains("style="), "{s}");
            assert!(!s.contains("<b>"), "{s}");
        }
    }
}
