//! A browser stand-in for HTTP-level dashboard tests: keeps cookies by hand, never follows
//! redirects (tests look at them), posts forms, and reads the CSRF token out of a page. Used by
//! `tests/it/dashboard.rs` and `tests/it/dashboard_sessions.rs`.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::common::{API_KEY, TestApp};

/// A visitor signed in to the default workspace through the sign-in form.
pub async fn signed_in(app: &TestApp) -> Visitor {
    let mut visitor = Visitor::new(&app.base);
    let answer = visitor.sign_in(API_KEY).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    visitor
}

/// How many webhooks the default workspace has, asked through the API.
pub async fn webhook_count(app: &TestApp) -> usize {
    let (_, list) = app.get("/api/v1/webhooks").await;
    list["data"].as_array().unwrap().len()
}

/// The service's database, for tests that look behind the API.
pub fn store_url(app: &TestApp) -> String {
    format!("sqlite://{}", app.db_path.display())
}

/// One answer, as a browser would see it.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub retry_after: Option<String>,
    pub body: String,
}

impl Page {
    /// The `Set-Cookie` line that sets `name`, if any.
    pub fn cookie_line(&self, name: &str) -> Option<&str> {
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(String::as_str)
    }

    /// The page's form token: the first `name="csrf" value="…"`.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).expect("the page has no CSRF field") + marker.len();
        let end = self.body[start..].find('"').unwrap();
        self.body[start..start + end].to_string()
    }

    /// The target of the link whose text is `text` (HTML entities in it decoded).
    pub fn link(&self, text: &str) -> Option<String> {
        let at = self.body.find(&format!(">{text}</a>"))?;
        let start = self.body[..at].rfind("href=\"")? + 6;
        let end = start + self.body[start..].find('"')?;
        Some(
            self.body[start..end]
                .replace("&amp;", "&")
                .replace("&#43;", "+"),
        )
    }

    /// The element that starts with `marker` (e.g. `id="option-filter"`) up to the next tag that
    /// closes one like it: enough to look inside one `<dd>` or `<div>` of a page.
    pub fn section(&self, marker: &str) -> &str {
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no {marker}"));
        let tag = self.body[..start].rfind('<').unwrap();
        let name: String = self.body[tag + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let end = self.body[start..]
            .find(&format!("</{name}>"))
            .map_or(self.body.len(), |e| start + e);
        &self.body[start..end]
    }

    /// How many times `needle` occurs in the body.
    pub fn count(&self, needle: &str) -> usize {
        self.body.matches(needle).count()
    }
}

pub struct Visitor {
    base: String,
    client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    /// Extra headers on every request, e.g. `X-Forwarded-Proto`.
    pub headers: Vec<(&'static str, String)>,
}

impl Visitor {
    pub fn new(base: &str) -> Self {
        Self::with_client(base, reqwest::Client::builder())
    }

    /// A visitor whose connections come from `local` (any of 127.0.0.0/8 reaches a service on
    /// 127.0.0.1), so the service sees another client address.
    pub fn from_address(base: &str, local: std::net::IpAddr) -> Self {
        Self::with_client(base, reqwest::Client::builder().local_address(local))
    }

    fn with_client(base: &str, builder: reqwest::ClientBuilder) -> Self {
        let client = builder
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            base: base.to_string(),
            client,
            cookies: BTreeMap::new(),
            headers: Vec::new(),
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let mut request = request;
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header(COOKIE, jar.join("; "));
        }
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        let header = |v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_string();
        let set_cookies: Vec<String> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(header)
            .collect();
        for line in &set_cookies {
            let pair = line.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || line.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        Page {
            status: response.status().as_u16(),
            location: response.headers().get(LOCATION).map(header),
            set_cookies,
            retry_after: response.headers().get("retry-after").map(header),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in fields {
            body.append_pair(name, value);
        }
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.finish());
        self.send(request).await
    }

    /// Signs in through the form, as a browser would, and returns the sign-in answer.
    pub async fn sign_in(&mut self, key: &str) -> Page {
        let form = self.get("/login").await;
        let csrf = form.csrf();
        self.post("/login", &[("csrf", &csrf), ("api_key", key)])
            .await
    }

    /// A CSRF token of the current session, read from a page.
    pub async fn csrf(&mut self) -> String {
        self.get("/webhooks/new").await.csrf()
    }
}
