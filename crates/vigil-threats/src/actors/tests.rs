use super::*;
use crate::testkit::fixture;

#[test]
fn merge_unifies_aliases_across_sources() {
    let f = fixture();
    let keys: Vec<&str> = f.actors.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "G0001",
            "G0002",
            "misp:aaaaaaaa-0000-4000-8000-000000000003"
        ]
    );
    let a = &f.actors[0];
    // Sandy joined Alpha Bear through the ATT&CK alias; its synonym came along.
    assert_eq!(a.aliases, ["Sand Storm", "Sandy"]);
    assert_eq!(
        a.sources,
        [
            "attack:G0001",
            "misp-galaxy:threat-actor:aaaaaaaa-0000-4000-8000-000000000001"
        ]
    );
    assert_eq!(a.victims, ["Germany", "Ukraine"]);
    assert_eq!(
        a.techniques.iter().map(String::as_str).collect::<Vec<_>>(),
        ["T1059.001", "T1190", "T1566.001"]
    );
    assert_eq!(a.cves.keys().collect::<Vec<_>>(), ["CVE-2023-1111"]);
    assert_eq!(
        a.last_activity.as_ref().map(|(_, w)| w.as_str()),
        Some("campaign Operation Sandstorm last seen")
    );
    // Beta Panda: merged by the STIX UUID of G0002.
    assert_eq!(f.actors[1].victims, ["Japan"]);
    assert_eq!(f.actors[1].sources.len(), 2);
}

#[test]
fn relevance_is_pinned() {
    let f = fixture();
    let r = |i: usize| relevance(&f.actors[i], &f.profile, &f.geo, &f.obs, f.today);
    // G0001 Alpha Bear:
    //   sector   Finance → financial             1.0 × 35 = 35
    //   region   Germany is a profile country    1.0 × 30 = 30
    //   recency  campaign last seen 2026-08-29, 90 days before 2026-11-27:
    //            1 − 90/730 = 0.876712 × 15 = 13.15
    //   observed T1059.001 has 4 alerts          1.0 × 20 = 20
    //   total 98.15 → very high (5)
    let a = r(0);
    let pts: Vec<f64> = a.factors.iter().map(|x| x.points).collect();
    assert_eq!(pts, [35.0, 30.0, 13.15, 20.0]);
    assert_eq!((a.value, a.rank), (98.15, 5));
    assert_eq!(
        a.factors[2].reason,
        "campaign Operation Sandstorm last seen on 2026-08-29 (90 days ago)"
    );
    assert_eq!(a.factors[3].reason, "seen: T1059.001 (4 alerts)");
    // G0002 Beta Panda:
    //   sector   "Private sector" at large, financial is commercial  0.5 × 35 = 17.5
    //   region   Japan: not Germany, not in Europe, other continent  0
    //   recency  nothing dated                                       0
    //   observed T1566 has no alerts                                 0
    //   total 17.5 → very low (1)
    let b = r(1);
    assert_eq!((b.value, b.rank), (17.5, 1));
    // Gamma Kitten (galaxy only):
    //   sector   Bank → financial          1.0 × 35 = 35
    //   region   "Europe" is a profile region 0.75 × 30 = 22.5
    //   total 57.5 → moderate (3)
    let c = r(2);
    assert_eq!((c.value, c.rank), (57.5, 3));
    assert_eq!(c.factors[1].reason, "targets Europe");
}

#[test]
fn cve_scan() {
    assert_eq!(
        cves_in("used cve-2021-44228 and CVE-2017-0199, not CVE-20-1 or CVE-2020-12"),
        ["CVE-2017-0199", "CVE-2021-44228"]
    );
    assert_eq!(name_key("APT 28"), name_key("apt-28"));
}

#[test]
fn indicators_link_by_name_alias_or_software() {
    let f = fixture();
    let mut obs = Observations::default();
    let mut actors = f.actors.clone();
    actors[1].software.push(("S0001".into(), "PandaRAT".into()));
    let links = [
        IndicatorLink {
            related: vec!["sandy".into()],
            sightings: 2,
        },
        IndicatorLink {
            related: vec!["Alpha Bear".into(), "SANDY".into()],
            sightings: 0,
        },
        IndicatorLink {
            related: vec!["pandarat".into()],
            sightings: 1,
        },
        IndicatorLink {
            related: vec!["nobody".into()],
            sightings: 9,
        },
    ];
    link_indicators(&actors, &links, &mut obs);
    assert_eq!(obs.actor_indicators.get("G0001"), Some(&2));
    assert_eq!(obs.actor_sightings.get("G0001"), Some(&2));
    assert_eq!(obs.actor_sightings.get("G0002"), Some(&1));
    // G0001 with 2 sightings: observed 1.0 × 20 even without alerts
    let r = observed_factor(
        &actors[0],
        &Observations {
            technique_alerts: Default::default(),
            ..obs
        },
    );
    assert_eq!(
        (r.points, r.reason.as_str()),
        (20.0, "seen: 2 indicator sightings")
    );
}
