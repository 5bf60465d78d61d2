//! Console helpers: users, signed-in sessions, pages and CSRF-carrying
//! form posts through the real router. See: #9

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use vigil_model::{Clock, Principal, Role, TenantId};
use vigil_store::UserRecord;

use super::{Reply, TestApp};

/// The password of every user these helpers create.
pub const PASSWORD: &str = "console password 1234";

/// A signed-in browser: its session cookie and CSRF token.
#[derive(Debug, Clone)]
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

/// Creates a user directly in the store.
pub async fn user(app: &TestApp, name: &str, role: Role) -> UserRecord {
    app.store
        .create_user(
            TenantId::DEFAULT,
            name,
            role,
            PASSWORD,
            &Principal::system("test"),
            app.clock.now(),
        )
        .await
        .expect("create user")
}

/// Signs `name` in through `GET /login` + `POST /login` as a browser does.
pub async fn sign_in(app: &TestApp, name: &str) -> Browser {
    let r = get_page(app, None, "/login").await;
    let set = r
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let token = set
        .strip_prefix("vigil_login=")
        .and_then(|s| s.split(';').next())
        .expect("login cookie")
        .to_owned();
    let body = form_body(&[
        ("username", name),
        ("password", PASSWORD),
        ("next", "/"),
        ("login_csrf", &token),
    ]);
    let req = Request::post("/login")
        .header(header::COOKIE, format!("vigil_login={token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request");
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "sign-in: {}", r.text());
    let cookie = r
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.strip_prefix("vigil_session="))
        .and_then(|s| s.split(';').next())
        .expect("session cookie")
        .to_owned();
    let page = get_page(app, Some(&cookie), "/").await.text();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf field")
        .to_owned();
    Browser { cookie, csrf }
}

/// `GET uri` with the session cookie, if any.
pub async fn get_page(app: &TestApp, cookie: Option<&str>, uri: &str) -> Reply {
    let mut b = Request::builder().method(Method::GET).uri(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, format!("vigil_session={c}"));
    }
    app.send(b.body(Body::empty()).expect("request")).await
}

/// A urlencoded form body.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish()
}

impl Browser {
    /// `GET uri`; asserts 200 and returns the page.
    pub async fn page(&self, app: &TestApp, uri: &str) -> String {
        let r = get_page(app, Some(&self.cookie), uri).await;
        assert_eq!(r.status, StatusCode::OK, "GET {uri}: {}", r.text());
        r.text()
    }

    /// Posts a form with the session's CSRF token.
    pub async fn post(&self, app: &TestApp, uri: &str, pairs: &[(&str, &str)]) -> Reply {
        let mut all: Vec<(&str, &str)> = pairs.to_vec();
        all.push(("csrf", &self.csrf));
        let req = Request::post(uri)
            .header(header::COOKIE, format!("vigil_session={}", self.cookie))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form_body(&all)))
            .expect("request");
        app.send(req).await
    }

    /// Posts a form, asserts the 303 and follows it; returns the page.
    pub async fn post_and_follow(
        &self,
        app: &TestApp,
        uri: &str,
        pairs: &[(&str, &str)],
    ) -> String {
        let r = self.post(app, uri, pairs).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "POST {uri}: {}", r.text());
        let to = r
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .expect("location")
            .to_owned();
        self.page(app, &to).await
    }
}
