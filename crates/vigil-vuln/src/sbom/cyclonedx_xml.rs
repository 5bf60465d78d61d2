//! CycloneDX XML (streamed with quick-xml): `component` elements at any
//! depth, their `name`, `group`, `version`, `purl` children and `bom-ref`.

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::{MAX_DEPTH, Sbom, SbomFormat};
use crate::error::{Error, Result};

#[derive(Default)]
struct Partial {
    name: String,
    group: String,
    version: String,
    purl: String,
    bom_ref: Option<String>,
    in_metadata: bool,
    index: usize,
}

fn xml_err(r: &Reader<&[u8]>, e: impl std::fmt::Display) -> Error {
    Error::parse("cyclonedx-xml", format!("byte {}", r.error_position()), e)
}

fn bom_ref(r: &Reader<&[u8]>, e: &BytesStart<'_>) -> Result<Option<String>> {
    for a in e.attributes() {
        let a = a.map_err(|x| xml_err(r, x))?;
        if a.key.local_name().as_ref() == b"bom-ref" {
            let v = a
                .decode_and_unescape_value(r.decoder())
                .map_err(|x| xml_err(r, x))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn resolve_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix('x') {
                Some(h) => u32::from_str_radix(h, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// Parses a CycloneDX XML document.
pub fn parse(text: &str) -> Result<Sbom> {
    Error::check_size("SBOM", text.len(), super::MAX_SBOM_BYTES)?;
    let mut r = Reader::from_str(text);
    r.config_mut().trim_text(true);
    let mut sbom = Sbom::new(SbomFormat::CyclonedxXml);
    let mut path: Vec<String> = Vec::new();
    let mut stack: Vec<Partial> = Vec::new();
    let mut count = 0usize;
    let mut seen_bom = false;
    // (document position, component): children close before their parents
    let mut found = Vec::new();
    loop {
        let ev = r.read_event().map_err(|e| xml_err(&r, e))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e)
                if e.local_name().as_ref() == b"bom" && path.is_empty() =>
            {
                seen_bom = true;
                for a in e.attributes().flatten() {
                    if a.key.as_ref() == b"xmlns" {
                        let ns = String::from_utf8_lossy(&a.value).into_owned();
                        sbom.spec_version = ns.rsplit('/').next().map(str::to_owned);
                    }
                }
                if matches!(ev, Event::Start(_)) {
                    path.push("bom".into());
                }
            }
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if path.len() > MAX_DEPTH * 4 {
                    return Err(xml_err(&r, "elements nested too deeply"));
                }
                if name == "component" {
                    let in_metadata = path.last().is_some_and(|p| p == "metadata");
                    stack.push(Partial {
                        bom_ref: bom_ref(&r, &e)?,
                        in_metadata,
                        index: count,
                        ..Partial::default()
                    });
                    count += 1;
                }
                path.push(name);
            }
            Event::Empty(e) if e.local_name().as_ref() == b"component" => {
                sbom.problems
                    .push(format!("component #{count}: empty element"));
                count += 1;
            }
            Event::End(_) => {
                if let Some(name) = path.pop()
                    && name == "component"
                    && let Some(p) = stack.pop()
                {
                    let opt = |s: &str| {
                        if s.is_empty() {
                            None
                        } else {
                            Some(s.to_owned())
                        }
                    };
                    let loc = format!("component #{}", p.index);
                    let c = sbom.push(
                        &loc,
                        opt(&p.name).as_deref(),
                        opt(&p.group).as_deref(),
                        opt(&p.version).as_deref(),
                        opt(&p.purl).as_deref(),
                        p.bom_ref.as_deref(),
                    );
                    if p.in_metadata {
                        sbom.subject = c;
                    } else if let Some(c) = c {
                        found.push((p.index, c));
                    }
                }
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                let n = path.len();
                if n < 2 || path[n - 2] != "component" {
                    continue;
                }
                let Some(p) = stack.last_mut() else { continue };
                let field = match path[n - 1].as_str() {
                    "name" => &mut p.name,
                    "group" => &mut p.group,
                    "version" => &mut p.version,
                    "purl" => &mut p.purl,
                    _ => continue,
                };
                match ev {
                    Event::Text(t) => {
                        field.push_str(&t.decode().map_err(|e| xml_err(&r, e))?);
                    }
                    Event::CData(t) => {
                        field.push_str(&t.decode().map_err(|e| xml_err(&r, e))?);
                    }
                    Event::GeneralRef(g) => {
                        let name = g.decode().map_err(|e| xml_err(&r, e))?;
                        match resolve_entity(&name) {
                            Some(c) => field.push(c),
                            None => return Err(xml_err(&r, format!("unknown entity &{name};"))),
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_bom {
        return Err(Error::parse("cyclonedx-xml", "root", "no <bom> element"));
    }
    found.sort_by_key(|(i, _)| *i);
    sbom.components = found.into_iter().map(|(_, c)| c).collect();
    Ok(sbom.finish())
}
