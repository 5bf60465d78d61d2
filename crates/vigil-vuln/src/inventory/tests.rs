//! Inventory parser tests on small hand-written files.

use super::*;

/// Renders component keys, then problems, space-separated.
fn check(inv: Result<Inventory, crate::Error>, want: &str) {
    let inv = inv.unwrap();
    let mut parts: Vec<String> = inv.components.iter().map(|c| c.key()).collect();
    parts.extend(inv.problems.iter().map(|p| format!("!{p}")));
    assert_eq!(parts.join(" "), want);
}

const DEBIAN: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n";

#[test]
fn os_release() {
    let os = OsRelease::parse(DEBIAN);
    assert_eq!(os.distro().as_deref(), Some("debian-12"));
    let u = OsRelease::parse("ID=ubuntu\nID_LIKE=debian\nVERSION_ID='22.04'\n# c\ngarbage\n");
    assert_eq!(
        (u.distro().as_deref(), u.id_like.len()),
        (Some("ubuntu-22.04"), 1)
    );
}

#[test]
fn dpkg() {
    let status = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u4\nDescription: GNU C Library\n continuation: line\n\n\
                  Package: removed\nStatus: deinstall ok config-files\nVersion: 1.0\n\n\
                  Package: tzdata\nStatus: install ok installed\nArchitecture: all\nVersion: 2024a-0+deb12u1\n";
    let os = OsRelease::parse(DEBIAN);
    check(
        parse_dpkg_status(status, Some(&os)),
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12 pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12",
    );
    let inv = parse_dpkg_status(status, Some(&os)).unwrap();
    assert_eq!(inv.components[0].source_name.as_deref(), Some("glibc"));
    assert_eq!(inv.components[0].distro_release.as_deref(), Some("12"));
    let ubuntu = OsRelease::parse("ID=ubuntu\nVERSION_ID=\"22.04\"\n");
    check(
        parse_dpkg_status(
            "Package: a\nStatus: install ok installed\nVersion: 1\n",
            Some(&ubuntu),
        ),
        "pkg:deb/ubuntu/a@1?distro=ubuntu-22.04",
    );
}

#[test]
fn apk() {
    let os = OsRelease::parse("ID=alpine\nVERSION_ID=3.18.4\n");
    let db = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\n";
    check(
        parse_apk_installed(db, Some(&os)),
        "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.4 pkg:apk/alpine/busybox@1.36.1-r5?arch=x86_64&distro=alpine-3.18.4",
    );
}

/// Builds a header blob: entries of (tag, type, payload).
fn blob(entries: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
    let mut index = Vec::new();
    let mut data = Vec::new();
    for (tag, ty, payload) in entries {
        if *ty == 4 {
            while data.len() % 4 != 0 {
                data.push(0);
            }
        }
        index.extend_from_slice(&tag.to_be_bytes());
        index.extend_from_slice(&ty.to_be_bytes());
        index.extend_from_slice(&(data.len() as u32).to_be_bytes());
        index.extend_from_slice(&1u32.to_be_bytes());
        data.extend_from_slice(payload);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend(index);
    out.extend(data);
    out
}

#[test]
fn rpm_header() {
    let s = |x: &str| {
        let mut v = x.as_bytes().to_vec();
        v.push(0);
        v
    };
    let b = blob(&[
        (1000, 6, s("openssl-libs")),
        (1001, 6, s("3.0.7")),
        (1002, 6, s("27.el9")),
        (1003, 4, 1u32.to_be_bytes().to_vec()),
        (1022, 6, s("x86_64")),
    ]);
    let h = parse_rpm_header(&b).unwrap();
    assert_eq!(
        (h.name.as_str(), h.evr().as_str(), h.arch.as_deref()),
        ("openssl-libs", "1:3.0.7-27.el9", Some("x86_64"))
    );
    let os = OsRelease::parse("ID=\"rhel\"\nVERSION_ID=\"9.2\"\n");
    let c = h.component(Some(&os)).unwrap();
    assert_eq!(
        c.key(),
        "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.2&epoch=1"
    );
    assert_eq!(c.version.as_deref(), Some("1:3.0.7-27.el9"));
    // Stored components are rebuilt from their purl: the epoch comes back.
    let again = crate::Component::from_purl(c.purl.clone().unwrap());
    assert_eq!(again.version.as_deref(), Some("1:3.0.7-27.el9"));
    assert_eq!(again.ecosystem, c.ecosystem);
    // every truncation is an error, never a panic
    for n in 0..b.len() {
        assert!(parse_rpm_header(&b[..n]).is_err(), "prefix {n}");
    }
    assert!(parse_rpm_header(&blob(&[(1000, 6, s("x"))])).is_err());
}

#[test]
fn lockfiles() {
    check(
        parse_cargo_lock(
            "version = 3\n[[package]]\nname = \"me\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
        ),
        "pkg:cargo/smallvec@1.6.0",
    );
    check(
        parse_poetry_lock(
            "[[package]]\nname = \"Jinja2\"\nversion = \"2.10\"\n[[package]]\nname = \"x\"\n",
        ),
        "pkg:pypi/jinja2@2.10 !package[1]: missing name or version",
    );
    check(
        parse_package_lock(
            r#"{"lockfileVersion": 3, "packages": {"": {"name": "me"}, "node_modules/lodash": {"version": "4.17.20"},
               "node_modules/@babel/core": {"version": "7.0.0"}, "node_modules/a/node_modules/lodash": {"version": "3.0.0"},
               "node_modules/l": {"link": true}}}"#,
        ),
        "pkg:npm/%40babel/core@7.0.0 pkg:npm/lodash@3.0.0 pkg:npm/lodash@4.17.20",
    );
    check(
        parse_package_lock(
            r#"{"lockfileVersion": 1, "dependencies": {"a": {"version": "1.0.0", "dependencies": {"b": {"version": "2.0.0"}}}}}"#,
        ),
        "pkg:npm/a@1.0.0 pkg:npm/b@2.0.0",
    );
    check(
        parse_requirements(
            "# c\nDjango==3.2.1 ; python_version > \"3\"\nrequests[socks]==2.25.0 \\\n    --hash=sha256:abc\n-r other.txt\nflask>=1.0\nZope.Interface===5.0\n",
        ),
        "pkg:pypi/django@3.2.1 pkg:pypi/requests@2.25.0 pkg:pypi/zope-interface@5.0 !line 5: not pinned with ==: flask>=1.0",
    );
    check(
        parse_go_sum(
            "github.com/a/b v1.0.0 h1:x=\ngithub.com/a/b v1.0.0/go.mod h1:y=\ngolang.org/x/net v0.0.0-2020-abc/go.mod h1:z=\nbad\n",
        ),
        "pkg:golang/github.com/a/b@v1.0.0 pkg:golang/golang.org/x/net@v0.0.0-2020-abc !line 4: expected 'module version hash'",
    );
}

#[test]
fn lockfile_by_name() {
    check(
        parse_lockfile("/src/requirements-dev.txt", "a==1\n").unwrap(),
        "pkg:pypi/a@1",
    );
    check(
        parse_lockfile("go.sum", "m v1.0.0 h1:x=\n").unwrap(),
        "pkg:golang/m@v1.0.0",
    );
    assert!(parse_lockfile("yarn.lock", "").is_none());
}
