//! The portal's branding over real HTTP: `SPEAKNODE_PORTAL_NAME` in every page's title and in the
//! sidebar (escaped), `SPEAKNODE_PORTAL_ACCENT` in `/assets/brand.css`, `SPEAKNODE_PORTAL_LOGO`
//! served byte for byte as the icon; and without them, the default name and icon. How the pages
//! look (contrast, both colour schemes) is checked by axe-core in `tests/it/browser.rs`.

#![allow(clippy::unwrap_used)]

use crate::common;
use crate::visitor;

use std::path::{Path, PathBuf};

use common::TestApp;
use visitor::{Page, Visitor, signed_in};

const SVG_LOGO: &[u8] =
    br##"<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><circle cx="16" cy="16" r="14" fill="#0e7490"/></svg>"##;
/// A 1×1 PNG, teal.
const PNG_LOGO: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90\x77\x53\xde\x00\x00\x00\x0c\x49\x44\x41\x54\x78\x9c\x63\x10\xd9\xb1\x0c\x00\x02\x56\x01\x73\xd7\x5a\xed\x82\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

fn write_logo(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn start_branded(name: &str, accent: &str, logo: &Path) -> TestApp {
    let (name, accent) = (name.to_string(), accent.to_string());
    let logo = logo.display().to_string();
    TestApp::start_with(|a| {
        a.portal.portal_name = Some(name);
        a.portal.portal_accent = Some(accent);
        a.portal.portal_logo = Some(logo);
    })
    .await
}

/// Every kind of page: signed in (list, form, webhook, Event Types, an error page) and not
/// (sign-in, an invalid portal link).
async fn every_page(app: &TestApp) -> Vec<(String, Page)> {
    let (status, webhook) = app
        .post(
            "/api/v1/webhooks",
            serde_json::json!({"url": "https://example.com/hook", "event_types": ["SessionStarted"]}),
        )
        .await;
    assert_eq!(status, 201, "{webhook}");
    let id = webhook["id"].as_str().unwrap();
    let mut visitor = signed_in(app).await;
    let mut pages = Vec::new();
    for path in [
        "/webhooks".to_string(),
        "/webhooks/new".into(),
        format!("/webhooks/{id}"),
        format!("/webhooks/{id}/edit"),
        "/event-types".into(),
        "/webhooks/wh_no_such_webhook".into(),
    ] {
        let page = visitor.get(&path).await;
        pages.push((path, page));
    }
    for path in ["/login", "/portal/anything"] {
        let page = Visitor::new(&app.base).get(path).await;
        pages.push((path.to_string(), page));
    }
    pages
}

/// The sidebar's brand block of a page.
fn brand_block(page: &Page) -> &str {
    let start = page
        .body
        .find("<div class=\"brand\">")
        .expect("a brand block");
    let end = page.body[start..].find("</div>").unwrap();
    &page.body[start..start + end]
}

async fn fetch(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map_or("", |v| v.to_str().unwrap())
}

#[tokio::test]
async fn the_name_accent_and_logo_are_on_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let logo = write_logo(dir.path(), "logo.svg", SVG_LOGO);
    let app = start_branded("Acme Hooks", "#0E7490", &logo).await;

    for (path, page) in every_page(&app).await {
        assert!(
            page.body.contains(" · Acme Hooks</title>"),
            "{path}: {}",
            page.body
        );
        assert!(!page.body.contains("SpeakNode Webhooks</title>"), "{path}");
        let brand = brand_block(&page);
        assert!(brand.contains("<span>Acme Hooks</span>"), "{path}: {brand}");
        assert!(
            brand.contains("<img class=\"logo\" src=\"/assets/logo\" alt=\"\">"),
            "{path}: {brand}"
        );
        assert!(
            page.body
                .contains("<link rel=\"icon\" href=\"/assets/logo\" type=\"image/svg+xml\">"),
            "{path}: the logo is the favicon"
        );
        // After app.css, so the accent's variables win.
        let app_css = page.body.find("href=\"/assets/app.css\"").unwrap();
        let brand_css = page.body.find("href=\"/assets/brand.css\"");
        assert!(brand_css.is_some_and(|b| b > app_css), "{path}");
    }

    let css = fetch(&app, "/assets/brand.css").await;
    assert_eq!(css.status(), 200);
    assert!(header(&css, "content-type").starts_with("text/css"));
    let css = css.text().await.unwrap();
    assert!(css.contains("--brand: #0e7490;"), "{css}");
    assert!(css.contains("prefers-color-scheme: dark"), "{css}");

    for path in ["/assets/logo", "/favicon.ico"] {
        let served = fetch(&app, path).await;
        assert_eq!(served.status(), 200, "{path}");
        assert_eq!(header(&served, "content-type"), "image/svg+xml", "{path}");
        assert_eq!(header(&served, "x-content-type-options"), "nosniff");
        // Opened on its own, the SVG is a document in which nothing may run.
        let csp = header(&served, "content-security-policy").to_string();
        assert!(
            csp.starts_with("default-src 'none'") && csp.contains("sandbox"),
            "{csp}"
        );
        assert_eq!(served.bytes().await.unwrap().as_ref(), SVG_LOGO, "{path}");
    }
    // The default icon keeps its address.
    let icon = fetch(&app, "/assets/icon.svg").await;
    assert_eq!(icon.status(), 200);
    assert_ne!(icon.bytes().await.unwrap().as_ref(), SVG_LOGO);
    app.stop().await;
}

#[tokio::test]
async fn a_png_logo_is_served_byte_for_byte_with_its_type() {
    let dir = tempfile::tempdir().unwrap();
    let logo = write_logo(dir.path(), "logo.png", PNG_LOGO);
    let app = start_branded("Acme Hooks", "#0e7490", &logo).await;
    let served = fetch(&app, "/assets/logo").await;
    assert_eq!(served.status(), 200);
    assert_eq!(header(&served, "content-type"), "image/png");
    assert_eq!(header(&served, "x-content-type-options"), "nosniff");
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG_LOGO);
    let login = Visitor::new(&app.base).get("/login").await;
    assert!(
        login
            .body
            .contains("<link rel=\"icon\" href=\"/assets/logo\" type=\"image/png\">"),
        "{}",
        login.body
    );
    app.stop().await;
}

#[tokio::test]
async fn markup_in_the_name_is_shown_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let logo = write_logo(dir.path(), "logo.svg", SVG_LOGO);
    let app = start_branded("<script>alert(1)</script> & Co", "#0e7490", &logo).await;
    for (path, page) in every_page(&app).await {
        assert!(!page.body.contains("<script>alert(1)"), "{path}");
        let escaped = [
            "&#60;script&#62;alert(1)&#60;/script&#62; &#38; Co",
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co",
        ];
        let shown = escaped.iter().map(|e| page.body.matches(e).count()).max();
        // The title and the sidebar (the login and link pages show the brand once, in the card).
        assert_eq!(shown, Some(2), "{path}: {}", page.body);
    }
    app.stop().await;
}

#[tokio::test]
async fn without_branding_pages_show_the_default_name_and_icon() {
    let app = TestApp::start().await;
    for (path, page) in every_page(&app).await {
        assert!(
            page.body.contains(" · SpeakNode Webhooks</title>"),
            "{path}"
        );
        let brand = brand_block(&page);
        assert!(
            brand.contains("<span>SpeakNode <em>Webhooks</em></span>"),
            "{path}: {brand}"
        );
        assert!(brand.contains("<svg class=\"logo\""), "{path}: {brand}");
        assert!(
            page.body
                .contains("<link rel=\"icon\" href=\"/assets/icon.svg\" type=\"image/svg+xml\">"),
            "{path}"
        );
        assert!(!page.body.contains("/assets/brand.css"), "{path}");
        assert!(!page.body.contains("/assets/logo"), "{path}");
    }
    for path in ["/assets/logo", "/assets/brand.css"] {
        assert_eq!(fetch(&app, path).await.status(), 404, "{path}");
    }
    let favicon = fetch(&app, "/favicon.ico").await;
    assert_eq!(header(&favicon, "content-type"), "image/svg+xml");
    let icon = fetch(&app, "/assets/icon.svg").await.bytes().await.unwrap();
    assert_eq!(favicon.bytes().await.unwrap(), icon);
    app.stop().await;
}
