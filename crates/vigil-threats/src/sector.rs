//! Sector vocabulary: the free-text sector names of MISP galaxies (CFR
//! target categories, `targeted-sector`), STIX identities and profiles
//! mapped to a small canonical set, so `Bank`, `Finance` and `Financial
//! services` all match a `financial` profile.

/// `(canonical sector, names that mean it)`, names lowercase.
const SECTORS: &[(&str, &[&str])] = &[
    (
        "financial",
        &[
            "financial",
            "finance",
            "financial services",
            "financial sector",
            "bank",
            "banks",
            "banking",
            "payment",
            "payments",
            "investment",
            "insurance",
            "cryptocurrency",
            "accounting",
            "tax firm",
            "fintech",
            "financial institutions",
        ],
    ),
    (
        "government",
        &[
            "government",
            "government, administration",
            "government administration",
            "government agencies and services",
            "government institutions",
            "diplomacy",
            "justice",
            "intergovernmental",
            "police - law enforcement",
            "public sector",
            "immigration",
            "country",
        ],
    ),
    (
        "defense",
        &[
            "defense",
            "defence",
            "military",
            "defense industrial base",
            "defense contractor",
            "intelligence",
            "security service",
        ],
    ),
    (
        "energy",
        &[
            "energy",
            "electric",
            "electricity",
            "oil",
            "gas",
            "petroleum",
            "petrochemical",
            "energy company",
            "utilities",
            "water",
            "smart meter",
            "turbine",
            "mining",
        ],
    ),
    (
        "healthcare",
        &[
            "health",
            "healthcare",
            "medical",
            "pharmacy",
            "pharmaceuticals",
            "biomedical",
            "life science",
            "hospitals",
            "covid-19 research organizations",
            "veterinary",
        ],
    ),
    (
        "telecommunications",
        &[
            "telecoms",
            "telecommunications",
            "telecomms",
            "telecom",
            "it - isp",
            "communication equipment",
            "satellite navigation",
        ],
    ),
    (
        "technology",
        &[
            "technology",
            "high tech",
            "high-tech",
            "it",
            "information technology",
            "semi-conductors",
            "semiconductor industry",
            "electronic",
            "electronics manufacturers",
            "digital services",
            "digital infrastructure",
            "managed services provider",
            "programming",
            "it - security",
            "dns service provider",
            "software",
        ],
    ),
    (
        "education",
        &[
            "education",
            "academia - university",
            "universities",
            "higher education",
            "research - innovation",
            "scientific research",
            "think tanks",
            "academia",
        ],
    ),
    (
        "media",
        &[
            "news - media",
            "media",
            "media and entertainment",
            "journalist",
            "journalists",
            "television broadcast",
            "publishing industry",
            "entertainment",
            "streaming service",
        ],
    ),
    (
        "manufacturing",
        &[
            "manufacturing",
            "industrial",
            "critical manufacturing",
            "engineering",
            "automotive",
            "chemical",
            "steel",
            "metal",
            "construction",
            "civil engineering",
            "aerospace",
        ],
    ),
    (
        "transportation",
        &[
            "transport",
            "transportation",
            "transportation systems",
            "logistics",
            "logistic",
            "shipping",
            "maritime",
            "rail",
            "railway",
            "aviation",
            "civil aviation",
            "travel",
        ],
    ),
    (
        "retail",
        &[
            "retail",
            "ecommerce",
            "online marketplace",
            "hospitality",
            "hotels",
            "restaurant",
            "tourism",
            "casino",
            "gambling companies",
            "gambling websites",
            "gaming",
            "food",
            "food and agriculture",
            "agriculture",
        ],
    ),
    (
        "civil-society",
        &[
            "ngo",
            "ngos",
            "non-profit organisation",
            "civil society",
            "activists",
            "religious organization",
            "religious organizations",
            "dissidents",
            "dissident",
            "opposition",
            "political party",
            "pro-democracy and human rights political organizations",
        ],
    ),
    ("legal", &["legal", "lawyers"]),
];

/// Names meaning "companies in general": a partial match for any
/// commercial sector.
const BROAD: &[&str] = &["private sector", "multi-sector", "business", "services"];

/// Commercial sectors (those a broad "private sector" target includes).
const COMMERCIAL: &[&str] = &[
    "financial",
    "energy",
    "healthcare",
    "telecommunications",
    "technology",
    "media",
    "manufacturing",
    "transportation",
    "retail",
    "legal",
];

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The canonical sector of a name (`Bank` → `financial`), if known.
pub fn canonical(name: &str) -> Option<&'static str> {
    let n = norm(name);
    SECTORS
        .iter()
        .find(|(c, names)| *c == n || names.contains(&n.as_str()))
        .map(|(c, _)| *c)
}

/// True for "private sector" and similar catch-all targets.
pub fn is_broad(name: &str) -> bool {
    BROAD.contains(&norm(name).as_str())
}

/// True when a broad "private sector" target includes `canonical`.
pub fn is_commercial(canonical: &str) -> bool {
    COMMERCIAL.contains(&canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms() {
        assert_eq!(canonical("Bank"), Some("financial"));
        assert_eq!(canonical("  Financial   services "), Some("financial"));
        assert_eq!(canonical("Government, Administration"), Some("government"));
        assert_eq!(canonical("Unknown"), None);
        assert!(is_broad("Private Sector"));
        assert!(is_commercial("financial") && !is_commercial("government"));
    }
}
