//! HTTPS with a user-provided certificate: `[server] tls_cert` / `tls_key`
//! serve the API and the console over TLS (rustls), and the console's
//! session cookie is `Secure` there. See: #9

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{BIN, Server};

#[tokio::test(flavor = "multi_thread")]
async fn console_over_https_sets_a_secure_cookie() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let cert_pem = ck.cert.pem();
    std::fs::write(dir.path().join("cert.pem"), &cert_pem).expect("cert");
    std::fs::write(dir.path().join("key.pem"), ck.signing_key.serialize_pem()).expect("key");
    let cfg = dir.path().join("vigil.toml");
    std::fs::write(
        &cfg,
        format!(
            "version = 1\n[server]\ntls_cert = {:?}\ntls_key = {:?}\n",
            dir.path().join("cert.pem"),
            dir.path().join("key.pem")
        ),
    )
    .expect("config");
    let mut add = Command::new(BIN)
        .arg("--data-dir")
        .arg(&data)
        .arg("--config")
        .arg(&cfg)
        .args(["users", "add", "ana", "--role", "viewer"])
        .env_remove("VIGIL_DATABASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("users add");
    add.stdin
        .take()
        .expect("stdin")
        .write_all(b"a long password here\n")
        .expect("password");
    assert!(add.wait().expect("wait").success());

    let s = Server::start(&data, Some(&cfg));
    let port = s.addr.rsplit(':').next().expect("port").to_owned();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let https = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("pem"))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let base = format!("https://localhost:{port}");
    let r = https
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("https get");
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("content-security-policy"));
    // The sign-in form's pre-session token: a Secure cookie and a field.
    let pre = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        pre.starts_with("vigil_login=") && pre.contains("; Secure"),
        "{pre}"
    );
    let token = pre["vigil_login=".len()..]
        .split(';')
        .next()
        .unwrap_or("")
        .to_owned();
    let page = r.text().await.expect("page");
    assert!(page.contains(&token));
    let r = https
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("vigil_login={token}"))
        .body(format!(
            "username=ana&password=a+long+password+here&login_csrf={token}"
        ))
        .send()
        .await
        .expect("sign in");
    assert_eq!(r.status(), 303);
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let r = https
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(r.status(), 200);
    // Plain HTTP on the TLS port gets no answer.
    let plain = common::client()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.is_err() || !plain.as_ref().is_ok_and(|r| r.status() == 200));
    s.stop();
}
