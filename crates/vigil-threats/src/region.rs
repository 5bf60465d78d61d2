//! Geography for victimology matching: countries (ISO 3166 alpha-2, name,
//! continent) and regions. A built-in table covers Europe, the Middle East
//! and the most-targeted countries elsewhere; the MISP `country` galaxy
//! (which carries each country's continent) extends it when imported.

use std::collections::BTreeMap;

use crate::galaxy::Cluster;

/// `(ISO code, name, continent code)`; continents are `EU`, `AS`, `AF`,
/// `NA`, `SA`, `OC`.
const COUNTRIES: &[(&str, &str, &str)] = &[
    ("AL", "Albania", "EU"),
    ("AD", "Andorra", "EU"),
    ("AT", "Austria", "EU"),
    ("BY", "Belarus", "EU"),
    ("BE", "Belgium", "EU"),
    ("BA", "Bosnia and Herzegovina", "EU"),
    ("BG", "Bulgaria", "EU"),
    ("HR", "Croatia", "EU"),
    ("CY", "Cyprus", "EU"),
    ("CZ", "Czech Republic", "EU"),
    ("DK", "Denmark", "EU"),
    ("EE", "Estonia", "EU"),
    ("FI", "Finland", "EU"),
    ("FR", "France", "EU"),
    ("DE", "Germany", "EU"),
    ("GR", "Greece", "EU"),
    ("HU", "Hungary", "EU"),
    ("IS", "Iceland", "EU"),
    ("IE", "Ireland", "EU"),
    ("IT", "Italy", "EU"),
    ("XK", "Kosovo", "EU"),
    ("LV", "Latvia", "EU"),
    ("LI", "Liechtenstein", "EU"),
    ("LT", "Lithuania", "EU"),
    ("LU", "Luxembourg", "EU"),
    ("MT", "Malta", "EU"),
    ("MD", "Moldova", "EU"),
    ("MC", "Monaco", "EU"),
    ("ME", "Montenegro", "EU"),
    ("NL", "Netherlands", "EU"),
    ("MK", "North Macedonia", "EU"),
    ("NO", "Norway", "EU"),
    ("PL", "Poland", "EU"),
    ("PT", "Portugal", "EU"),
    ("RO", "Romania", "EU"),
    ("RU", "Russia", "EU"),
    ("SM", "San Marino", "EU"),
    ("RS", "Serbia", "EU"),
    ("SK", "Slovakia", "EU"),
    ("SI", "Slovenia", "EU"),
    ("ES", "Spain", "EU"),
    ("SE", "Sweden", "EU"),
    ("CH", "Switzerland", "EU"),
    ("UA", "Ukraine", "EU"),
    ("GB", "United Kingdom", "EU"),
    ("VA", "Vatican City", "EU"),
    ("BH", "Bahrain", "AS"),
    ("IR", "Iran", "AS"),
    ("IQ", "Iraq", "AS"),
    ("IL", "Israel", "AS"),
    ("JO", "Jordan", "AS"),
    ("KW", "Kuwait", "AS"),
    ("LB", "Lebanon", "AS"),
    ("OM", "Oman", "AS"),
    ("PS", "Palestine", "AS"),
    ("QA", "Qatar", "AS"),
    ("SA", "Saudi Arabia", "AS"),
    ("SY", "Syria", "AS"),
    ("TR", "Turkey", "AS"),
    ("AE", "United Arab Emirates", "AS"),
    ("YE", "Yemen", "AS"),
    ("EG", "Egypt", "AF"),
    ("CN", "China", "AS"),
    ("JP", "Japan", "AS"),
    ("KR", "South Korea", "AS"),
    ("KP", "North Korea", "AS"),
    ("IN", "India", "AS"),
    ("PK", "Pakistan", "AS"),
    ("TW", "Taiwan", "AS"),
    ("HK", "Hong Kong", "AS"),
    ("SG", "Singapore", "AS"),
    ("MY", "Malaysia", "AS"),
    ("TH", "Thailand", "AS"),
    ("VN", "Vietnam", "AS"),
    ("PH", "Philippines", "AS"),
    ("ID", "Indonesia", "AS"),
    ("KZ", "Kazakhstan", "AS"),
    ("AF", "Afghanistan", "AS"),
    ("MN", "Mongolia", "AS"),
    ("GE", "Georgia", "AS"),
    ("US", "United States", "NA"),
    ("CA", "Canada", "NA"),
    ("MX", "Mexico", "NA"),
    ("BR", "Brazil", "SA"),
    ("AR", "Argentina", "SA"),
    ("CL", "Chile", "SA"),
    ("CO", "Colombia", "SA"),
    ("AU", "Australia", "OC"),
    ("NZ", "New Zealand", "OC"),
    ("ZA", "South Africa", "AF"),
    ("NG", "Nigeria", "AF"),
    ("MA", "Morocco", "AF"),
];

/// Middle East (ISO codes), a region across continents.
const MIDDLE_EAST: &[&str] = &[
    "BH", "CY", "EG", "IR", "IQ", "IL", "JO", "KW", "LB", "OM", "PS", "QA", "SA", "SY", "TR", "AE",
    "YE",
];

/// `(region name, code)`.
const REGIONS: &[(&str, &str)] = &[
    ("europe", "EU"),
    ("european union", "EU"),
    ("asia", "AS"),
    ("africa", "AF"),
    ("north america", "NA"),
    ("americas", "NA"),
    ("south america", "SA"),
    ("latin america", "SA"),
    ("oceania", "OC"),
    ("middle east", "ME"),
];

/// One country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166 alpha-2.
    pub iso: String,
    /// English name.
    pub name: String,
    /// Continent code.
    pub continent: String,
}

/// Countries and regions.
#[derive(Debug, Clone, Default)]
pub struct Geo {
    by_key: BTreeMap<String, usize>,
    countries: Vec<Country>,
}

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl Geo {
    /// The built-in table.
    pub fn builtin() -> Geo {
        let mut g = Geo::default();
        for (iso, name, cont) in COUNTRIES {
            g.add(iso, name, cont);
        }
        // common alternative names
        for (alias, iso) in [
            ("usa", "US"),
            ("united states of america", "US"),
            ("uk", "GB"),
            ("great britain", "GB"),
            ("republic of korea", "KR"),
            ("korea", "KR"),
            ("russian federation", "RU"),
            ("czechia", "CZ"),
            ("the netherlands", "NL"),
            ("holland", "NL"),
            ("macedonia", "MK"),
            ("turkiye", "TR"),
            ("uae", "AE"),
            ("viet nam", "VN"),
        ] {
            if let Some(&i) = g.by_key.get(&iso.to_lowercase()) {
                g.by_key.insert(alias.to_string(), i);
            }
        }
        g
    }

    fn add(&mut self, iso: &str, name: &str, continent: &str) {
        let iso_k = iso.to_lowercase();
        let i = match self.by_key.get(&iso_k) {
            Some(&i) => i,
            None => {
                self.countries.push(Country {
                    iso: iso.to_uppercase(),
                    name: name.to_string(),
                    continent: continent.to_uppercase(),
                });
                self.countries.len() - 1
            }
        };
        self.by_key.insert(iso_k, i);
        self.by_key.entry(norm(name)).or_insert(i);
    }

    /// Adds the countries of MISP `country` galaxy clusters (meta `ISO`,
    /// `Continent`; the description is the English name).
    pub fn extend_from_galaxy(&mut self, clusters: &[Cluster]) {
        for c in clusters {
            if let (Some(iso), Some(cont)) = (&c.iso, &c.continent) {
                let name = c.description.as_deref().unwrap_or(&c.value);
                self.add(iso, name, cont);
                if let Some(&i) = self.by_key.get(&iso.to_lowercase()) {
                    self.by_key.entry(norm(&c.value)).or_insert(i);
                }
            }
        }
    }

    /// A country by ISO code or name.
    pub fn country(&self, key: &str) -> Option<&Country> {
        self.by_key
            .get(&norm(key))
            .and_then(|&i| self.countries.get(i))
    }

    /// The code of a region name (`Europe` → `EU`, `Middle East` → `ME`).
    pub fn region_code(&self, name: &str) -> Option<&'static str> {
        let n = norm(name);
        REGIONS.iter().find(|(r, _)| *r == n).map(|(_, c)| *c)
    }

    /// True when `country` lies in region `code`.
    pub fn in_region(&self, country: &Country, code: &str) -> bool {
        if code == "ME" {
            MIDDLE_EAST.contains(&country.iso.as_str())
        } else {
            country.continent == code
        }
    }

    /// The English name of a region code.
    pub fn region_name(code: &str) -> &'static str {
        match code {
            "EU" => "Europe",
            "AS" => "Asia",
            "AF" => "Africa",
            "NA" => "North America",
            "SA" => "South America",
            "OC" => "Oceania",
            "ME" => "Middle East",
            _ => "unknown region",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_and_regions() {
        let g = Geo::builtin();
        let de = g.country("germany").map(|c| c.iso.clone());
        assert_eq!(de.as_deref(), Some("DE"));
        assert_eq!(
            g.country("GB").map(|c| c.name.as_str()),
            Some("United Kingdom")
        );
        assert_eq!(g.country("UK").map(|c| c.iso.as_str()), Some("GB"));
        assert_eq!(g.region_code("Europe"), Some("EU"));
        let tr = g.country("Turkey").cloned().unwrap_or_else(|| Country {
            iso: String::new(),
            name: String::new(),
            continent: String::new(),
        });
        assert!(g.in_region(&tr, "ME") && !g.in_region(&tr, "EU"));
    }
}
