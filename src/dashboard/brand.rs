//! The customer portal's look: `SPEAKNODE_PORTAL_NAME`, `_ACCENT` and `_LOGO` applied to every
//! page. The page shell (`shell.html`, `brand.html`) is shared with the API reference at `/docs`,
//! so the brand reaches the templates as an askama runtime value rather than a field of each
//! page: a page rendered without one (the API reference) shows the defaults. `render` takes it
//! from the request being served (a middleware scopes it), so error pages, which are rendered
//! from a `PageError` with no state at hand, are branded too.
//!
//! The page CSP allows no inline style, so the accent is a stylesheet of its own,
//! `/assets/brand.css`, linked after `app.css`: it sets the colour variables that `app.css` uses
//! for buttons, links and focus rings. Any `#rrggbb` is accepted, so the colours that carry text
//! are derived from it here, at start-up, until they meet WCAG AA (4.5:1) in both colour schemes.

use std::any::Any;
use std::sync::{Arc, LazyLock};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::{Logo, PortalConfig};

/// What the pages show of the operator's branding, computed once from the settings.
#[derive(Debug)]
pub struct Brand {
    /// The service's name in titles and the sidebar.
    pub name: String,
    /// `SPEAKNODE_PORTAL_NAME` is set: the sidebar shows it as it is, not the two-tone default.
    pub custom_name: bool,
    /// `/assets/brand.css`, when an accent is set.
    stylesheet: Option<String>,
    logo: Option<Logo>,
}

/// The brand of a page rendered without one, and of a service without branding settings.
static DEFAULT: LazyLock<Arc<Brand>> = LazyLock::new(|| {
    Arc::new(Brand {
        name: "SpeakNode Webhooks".into(),
        custom_name: false,
        stylesheet: None,
        logo: None,
    })
});

impl Brand {
    pub fn new(portal: &PortalConfig) -> Self {
        Self {
            name: portal.display_name().to_string(),
            custom_name: portal.name.is_some(),
            stylesheet: portal
                .accent
                .as_deref()
                .and_then(Rgb::parse)
                .map(stylesheet),
            logo: portal.logo.clone(),
        }
    }

    /// For templates: the brand the page was rendered with, or the default one.
    pub fn or_default(found: askama::Result<&Brand>) -> &Brand {
        found.unwrap_or(DEFAULT.as_ref())
    }

    pub fn has_accent(&self) -> bool {
        self.stylesheet.is_some()
    }

    pub fn has_logo(&self) -> bool {
        self.logo.is_some()
    }

    /// The favicon's address: the logo when there is one.
    pub fn icon_href(&self) -> &'static str {
        match self.logo {
            Some(_) => "/assets/logo",
            None => "/assets/icon.svg",
        }
    }

    pub fn icon_type(&self) -> &'static str {
        self.logo
            .as_ref()
            .map_or("image/svg+xml", |l| l.content_type)
    }
}

tokio::task_local! {
    /// The brand of the dashboard serving the current request (tests run several services with
    /// different brands in one process, so this is no global).
    static CURRENT: Arc<Brand>;
}

/// Middleware: the request's pages are rendered with `brand`, error pages included.
pub async fn scope(State(brand): State<Arc<Brand>>, request: Request, next: Next) -> Response {
    CURRENT.scope(brand, next.run(request)).await
}

/// Renders with the current request's brand as the runtime value `brand`.
pub fn render_branded(page: &impl askama::Template) -> askama::Result<String> {
    let brand = CURRENT
        .try_with(Arc::clone)
        .unwrap_or_else(|_| DEFAULT.clone());
    page.render_with_values(&("brand", brand.as_ref() as &dyn Any))
}

/// `/assets/brand.css`: the accent's colour variables; 404 without an accent.
pub async fn stylesheet_route(State(brand): State<Arc<Brand>>) -> Response {
    match &brand.stylesheet {
        Some(css) => super::asset("text/css; charset=utf-8", css.clone()),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `/assets/logo`: the operator's logo, byte for byte; 404 without one.
pub async fn logo(State(brand): State<Arc<Brand>>) -> Response {
    match &brand.logo {
        Some(logo) => logo_response(logo),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `/favicon.ico`: the logo when there is one, else the default icon.
pub async fn favicon(State(brand): State<Arc<Brand>>) -> Response {
    match &brand.logo {
        Some(logo) => logo_response(logo),
        None => super::asset("image/svg+xml", super::ICON),
    }
}

fn logo_response(logo: &Logo) -> Response {
    let bytes = axum::body::Bytes::from_owner(logo.bytes.clone());
    let mut response = super::asset(logo.content_type, bytes);
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // An SVG opened on its own is a document: nothing in it may run or load.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    response
}

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rgb([u8; 3]);

const WHITE: Rgb = Rgb([255, 255, 255]);
const BLACK: Rgb = Rgb([0, 0, 0]);
/// The page backgrounds of `app.css` that text in the accent's colour sits on.
const LIGHT_BACKGROUNDS: [Rgb; 3] = [WHITE, Rgb([0xf5, 0xf6, 0xf8]), Rgb([0xf2, 0xf4, 0xf7])];
const DARK_BACKGROUNDS: [Rgb; 3] = [
    Rgb([0x0c, 0x11, 0x1d]),
    Rgb([0x16, 0x1b, 0x26]),
    Rgb([0x1f, 0x24, 0x2f]),
];
/// A little above AA's 4.5:1, so rounding never tips a colour under it.
const TEXT_CONTRAST: f64 = 4.6;

impl Rgb {
    fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix('#')?;
        let channel = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
        Some(Self([channel(0)?, channel(2)?, channel(4)?]))
    }

    fn hex(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    /// WCAG relative luminance.
    fn luminance(self) -> f64 {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = self.0.map(linear);
        0.2126 * r + 0.7152 * g + 0.0722 * b
    }

    /// `share` of this colour, the rest `other` (as CSS color-mix in srgb).
    fn mix(self, other: Rgb, share: f64) -> Rgb {
        let channel = |a: u8, b: u8| (f64::from(a) * share + f64::from(b) * (1.0 - share)).round();
        // Each channel is between two u8 values, so it fits.
        let at = |i: usize| channel(self.0[i], other.0[i]).clamp(0.0, 255.0) as u8;
        Rgb([at(0), at(1), at(2)])
    }
}

fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (a.luminance(), b.luminance());
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// `colour`, moved towards `towards` only as far as needed to read on every background.
fn readable(colour: Rgb, towards: Rgb, backgrounds: &[Rgb]) -> Rgb {
    (0..=40)
        .map(|step| colour.mix(towards, 1.0 - f64::from(step) / 40.0))
        .find(|c| {
            backgrounds
                .iter()
                .all(|b| contrast(*c, *b) >= TEXT_CONTRAST)
        })
        .unwrap_or(towards)
}

/// The stylesheet for an accent: the variables `app.css` reads (see its `:root`).
fn stylesheet(accent: Rgb) -> String {
    // Text on the accent: white or black, whichever reads better (one always reaches 4.5:1).
    let on_brand = if contrast(accent, WHITE) >= contrast(accent, BLACK) {
        WHITE
    } else {
        BLACK
    };
    let away = if on_brand == WHITE { BLACK } else { WHITE };
    let hover = accent.mix(away, 0.85);

    let light_soft = accent.mix(WHITE, 0.10);
    let light_line = accent.mix(WHITE, 0.35);
    let light_text = readable(
        accent,
        BLACK,
        &[LIGHT_BACKGROUNDS.as_slice(), &[light_soft]].concat(),
    );
    let dark_soft = accent.mix(DARK_BACKGROUNDS[1], 0.16);
    let dark_line = accent.mix(DARK_BACKGROUNDS[1], 0.45);
    let dark_text = readable(
        accent,
        WHITE,
        &[DARK_BACKGROUNDS.as_slice(), &[dark_soft]].concat(),
    );

    format!(
        "/* SPEAKNODE_PORTAL_ACCENT {accent}; the text colours are derived from it for contrast. */\n\
         :root {{ --brand: {accent}; --brand-hover: {hover}; --on-brand: {on_brand}; \
         --brand-text: {light_text}; --brand-soft: {light_soft}; --brand-line: {light_line}; }}\n\
         @media (prefers-color-scheme: dark) {{\n  \
         :root {{ --brand-text: {dark_text}; --brand-soft: {dark_soft}; --brand-line: {dark_line}; }}\n\
         }}\n",
        accent = accent.hex(),
        hover = hover.hex(),
        on_brand = on_brand.hex(),
        light_text = light_text.hex(),
        light_soft = light_soft.hex(),
        light_line = light_line.hex(),
        dark_text = dark_text.hex(),
        dark_soft = dark_soft.hex(),
        dark_line = dark_line.hex(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of `--name` in the part of the stylesheet that starts at `from`.
    fn variable(css: &str, from: &str, name: &str) -> Rgb {
        let part = &css[css.find(from).unwrap()..];
        let start = part.find(&format!("--{name}: ")).unwrap() + name.len() + 4;
        Rgb::parse(&part[start..start + 7]).unwrap()
    }

    #[test]
    fn the_default_brand_is_the_default_configuration() {
        let portal = PortalConfig::from_args(&crate::config::PortalArgs::defaults()).unwrap();
        let brand = Brand::new(&portal);
        assert_eq!(brand.name, DEFAULT.name);
        assert!(!brand.custom_name && !brand.has_accent() && !brand.has_logo());
        assert_eq!(brand.icon_href(), "/assets/icon.svg");
    }

    #[test]
    fn colours_parse_print_and_measure_like_wcag() {
        let indigo = Rgb::parse("#4f46e5").unwrap();
        assert_eq!(indigo.hex(), "#4f46e5");
        assert_eq!(Rgb::parse("4f46e5"), None);
        assert_eq!(Rgb::parse("#4f46e"), None);
        assert!((contrast(WHITE, BLACK) - 21.0).abs() < 1e-9);
        // The published ratio of indigo-600 on white is 6.29:1.
        assert!((contrast(indigo, WHITE) - 6.29).abs() < 0.01);
        assert_eq!(WHITE.mix(BLACK, 0.5), Rgb([128, 128, 128]));
    }

    #[test]
    fn every_accent_gets_text_colours_that_meet_aa_in_both_schemes() {
        let accents = [
            "#ffffff", "#000000", "#ffff00", "#14b8a6", "#4f46e5", "#e11d48", "#161b26", "#808080",
        ];
        for text in accents {
            let accent = Rgb::parse(text).unwrap();
            let css = stylesheet(accent);
            let light = |name| variable(&css, ":root", name);
            let dark = |name| variable(&css, "@media", name);
            assert_eq!(light("brand"), accent, "{text}");
            assert!(
                contrast(light("on-brand"), light("brand")) >= 4.5,
                "{text}: {css}"
            );
            assert!(
                contrast(light("on-brand"), light("brand-hover")) >= 4.5,
                "{text}: {css}"
            );
            for bg in LIGHT_BACKGROUNDS.iter().chain([&light("brand-soft")]) {
                assert!(contrast(light("brand-text"), *bg) >= 4.5, "{text}: {css}");
            }
            for bg in DARK_BACKGROUNDS.iter().chain([&dark("brand-soft")]) {
                assert!(contrast(dark("brand-text"), *bg) >= 4.5, "{text}: {css}");
            }
        }
    }

    #[test]
    fn an_accent_that_reads_already_is_kept_for_text() {
        let css = stylesheet(Rgb::parse("#4f46e5").unwrap());
        assert_eq!(variable(&css, ":root", "brand-text").hex(), "#4f46e5");
        assert_eq!(variable(&css, ":root", "on-brand"), WHITE);
        let light = stylesheet(Rgb::parse("#ffff00").unwrap());
        assert_eq!(variable(&light, ":root", "on-brand"), BLACK);
    }
}
