//! The API reference at `/docs`, on the real service: an HTML page with the service's strict CSP
//! that shows every path and schema of the OpenAPI document and loads nothing from elsewhere.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{TestApp, openapi_document};

/// The values of every `name="…"` attribute in the page.
fn attribute_values<'p>(page: &'p str, name: &str) -> Vec<&'p str> {
    let marker = format!(" {name}=\"");
    page.split(marker.as_str())
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect()
}

#[tokio::test]
async fn the_docs_page_lists_every_path_and_loads_only_what_the_service_serves() {
    let app = TestApp::start().await;
    let doc = openapi_document(&app).await;
    let response = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("style-src 'self'"),
        "{csp}"
    );
    let page = response.text().await.unwrap();

    for path in doc["paths"].as_object().unwrap().keys() {
        assert!(
            page.contains(&format!(">{path}<")),
            "/docs does not show {path}"
        );
    }
    for schema in doc["components"]["schemas"].as_object().unwrap().keys() {
        assert!(
            page.contains(&format!(">{schema}<")),
            "/docs does not show the schema {schema}"
        );
    }
    assert!(page.contains("href=\"/api/v1/openapi.json\""));
    // Nothing inline for the CSP to refuse, nothing from another host.
    assert!(
        !page.contains("<style") && !page.contains(" style="),
        "inline style"
    );
    assert_eq!(
        page.matches("<script").count(),
        attribute_values(&page, "src").len()
    );
    for link in attribute_values(&page, "href")
        .into_iter()
        .chain(attribute_values(&page, "src"))
    {
        if let Some(id) = link.strip_prefix('#') {
            assert!(
                page.contains(&format!("id=\"{id}\"")),
                "dangling link {link}"
            );
        } else {
            assert!(
                link.starts_with('/') && !link.starts_with("//"),
                "external {link}"
            );
            let status = app.client.get(app.url(link)).send().await.unwrap().status();
            assert_eq!(status, 200, "{link}");
        }
    }
}
