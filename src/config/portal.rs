//! The customer portal's settings: where customers' browsers reach the service, how long a
//! portal link lasts, who may frame the dashboard, the branding, and whether the API-key
//! sign-in form is offered at all.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::{ConfigError, bad, boolean, duration};

/// A logo larger than this is refused at start-up: it is served with every page.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Args)]
pub struct PortalArgs {
    /// The service's URL as customers' browsers reach it (portal links start with it);
    /// default `http://` + the listen address.
    #[arg(long, env = "SPEAKNODE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How long a portal link stays usable (1s to 1h).
    #[arg(long, env = "SPEAKNODE_PORTAL_LINK_TTL", default_value = "10m")]
    pub portal_link_ttl: String,
    /// Comma-separated origins allowed to frame the dashboard (`https://app.speaknode.com`).
    #[arg(long, env = "SPEAKNODE_PORTAL_EMBED_ORIGINS")]
    pub portal_embed_origins: Option<String>,
    /// Replaces "SpeakNode Webhooks" in the sidebar and page titles.
    #[arg(long, env = "SPEAKNODE_PORTAL_NAME")]
    pub portal_name: Option<String>,
    /// `#rrggbb`: the colour of buttons and links.
    #[arg(long, env = "SPEAKNODE_PORTAL_ACCENT")]
    pub portal_accent: Option<String>,
    /// A PNG or SVG file (at most 256 KiB) that replaces the icon.
    #[arg(long, env = "SPEAKNODE_PORTAL_LOGO")]
    pub portal_logo: Option<String>,
    /// `false`: no API-key sign-in form; customers enter through portal links only.
    #[arg(long, env = "SPEAKNODE_DASHBOARD_KEY_LOGIN", default_value = "true")]
    pub dashboard_key_login: String,
}

impl PortalArgs {
    pub fn defaults() -> Self {
        Self {
            public_url: None,
            portal_link_ttl: "10m".into(),
            portal_embed_origins: None,
            portal_name: None,
            portal_accent: None,
            portal_logo: None,
            dashboard_key_login: "true".into(),
        }
    }
}

/// A logo read at start-up, served by the binary.
#[derive(Clone)]
pub struct Logo {
    pub bytes: Arc<[u8]>,
    pub content_type: &'static str,
}

impl std::fmt::Debug for Logo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Logo({}, {} bytes)", self.content_type, self.bytes.len())
    }
}

#[derive(Debug, Clone)]
pub struct PortalConfig {
    /// `SPEAKNODE_PUBLIC_URL` without a trailing slash; `None`: `http://` + the address the
    /// service is bound to (known only once it is).
    pub public_url: Option<String>,
    pub link_ttl: Duration,
    /// Origins (`scheme://host[:port]`) allowed to frame the dashboard; empty: none.
    pub embed_origins: Vec<String>,
    pub name: Option<String>,
    /// `#rrggbb`, lower case.
    pub accent: Option<String>,
    pub logo: Option<Logo>,
    pub key_login: bool,
}

impl PortalConfig {
    pub fn from_args(args: &PortalArgs) -> Result<Self, ConfigError> {
        Ok(Self {
            public_url: match args.public_url.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(url) => Some(public_url(url)?),
            },
            link_ttl: link_ttl(&args.portal_link_ttl)?,
            embed_origins: match args.portal_embed_origins.as_deref() {
                None => Vec::new(),
                Some(list) => embed_origins(list)?,
            },
            name: args.portal_name.as_deref().map(name).transpose()?.flatten(),
            accent: args
                .portal_accent
                .as_deref()
                .map(accent)
                .transpose()?
                .flatten(),
            logo: args.portal_logo.as_deref().map(logo).transpose()?.flatten(),
            key_login: boolean("SPEAKNODE_DASHBOARD_KEY_LOGIN", &args.dashboard_key_login)?,
        })
    }

    /// Where customers' browsers reach the service bound to `bound`.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }

    /// The name pages show for the service.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("SpeakNode Webhooks")
    }
}

fn public_url(text: &str) -> Result<String, ConfigError> {
    let setting = "SPEAKNODE_PUBLIC_URL";
    let url =
        url::Url::parse(text).map_err(|e| bad(setting, format!("{text:?} is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad(
            setting,
            format!("{text:?} must be an http:// or https:// URL of a host"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            setting,
            format!("{text:?} must not have a query or fragment"),
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn link_ttl(text: &str) -> Result<Duration, ConfigError> {
    let setting = "SPEAKNODE_PORTAL_LINK_TTL";
    let ttl = duration(setting, text)?;
    if ttl < Duration::from_secs(1) || ttl > Duration::from_secs(3600) {
        return Err(bad(setting, format!("{text:?} must be from 1s to 1h")));
    }
    Ok(ttl)
}

/// Each an origin exactly as browsers send it: scheme, host and port, nothing else.
fn embed_origins(list: &str) -> Result<Vec<String>, ConfigError> {
    let setting = "SPEAKNODE_PORTAL_EMBED_ORIGINS";
    let mut origins = Vec::new();
    for text in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let refused = || {
            bad(
                setting,
                format!("{text:?} is not an origin like https://app.speaknode.com"),
            )
        };
        let url = url::Url::parse(text).map_err(|_| refused())?;
        let bare = url.path() == "/" && !text.ends_with('/');
        if !matches!(url.scheme(), "http" | "https")
            || url.host().is_none()
            || !bare
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
        {
            return Err(refused());
        }
        origins.push(url.origin().ascii_serialization());
    }
    Ok(origins)
}

fn name(text: &str) -> Result<Option<String>, ConfigError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > 60 || text.chars().any(char::is_control) {
        return Err(bad(
            "SPEAKNODE_PORTAL_NAME",
            "must be at most 60 characters, without control characters",
        ));
    }
    Ok(Some(text.to_string()))
}

fn accent(text: &str) -> Result<Option<String>, ConfigError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let hex = text.strip_prefix('#').unwrap_or("");
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad(
            "SPEAKNODE_PORTAL_ACCENT",
            format!("{text:?} is not a colour like #1f6feb"),
        ));
    }
    Ok(Some(format!("#{}", hex.to_ascii_lowercase())))
}

fn logo(path: &str) -> Result<Option<Logo>, ConfigError> {
    let setting = "SPEAKNODE_PORTAL_LOGO";
    if path.trim().is_empty() {
        return Ok(None);
    }
    let bytes =
        std::fs::read(path).map_err(|e| bad(setting, format!("cannot read {path:?} ({e})")))?;
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(bad(
            setting,
            format!("{path:?} is {} bytes; at most 256 KiB", bytes.len()),
        ));
    }
    let content_type = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if looks_like_svg(&bytes) {
        "image/svg+xml"
    } else {
        return Err(bad(
            setting,
            format!("{path:?} is neither a PNG nor an SVG file"),
        ));
    };
    Ok(Some(Logo {
        bytes: bytes.into(),
        content_type,
    }))
}

/// An SVG is XML text whose root element is `<svg`.
fn looks_like_svg(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|text| {
        let head = &text[..text.len().min(4096)];
        head.contains("<svg")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen() -> SocketAddr {
        "127.0.0.1:8080".parse().unwrap()
    }

    fn with(f: impl FnOnce(&mut PortalArgs)) -> Result<PortalConfig, ConfigError> {
        let mut args = PortalArgs::defaults();
        f(&mut args);
        PortalConfig::from_args(&args)
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = with(|_| {}).unwrap();
        assert_eq!(c.public_url(listen()), "http://127.0.0.1:8080");
        assert_eq!(c.link_ttl, Duration::from_secs(600));
        assert!(c.embed_origins.is_empty() && c.name.is_none() && c.accent.is_none());
        assert!(c.key_login);
        assert_eq!(c.display_name(), "SpeakNode Webhooks");
    }

    #[test]
    fn good_values_are_taken_and_normalised() {
        let c = with(|a| {
            a.public_url = Some("https://webhooks.speaknode.com/".into());
            a.portal_link_ttl = "1h".into();
            a.portal_embed_origins =
                Some("https://app.speaknode.com, http://localhost:5173".into());
            a.portal_name = Some(" Acme Hooks ".into());
            a.portal_accent = Some("#1F6FEB".into());
            a.dashboard_key_login = "false".into();
        })
        .unwrap();
        assert_eq!(c.public_url(listen()), "https://webhooks.speaknode.com");
        assert_eq!(
            c.embed_origins,
            ["https://app.speaknode.com", "http://localhost:5173"]
        );
        assert_eq!(c.display_name(), "Acme Hooks");
        assert_eq!(c.accent.as_deref(), Some("#1f6feb"));
        assert!(!c.key_login);
    }

    #[test]
    fn each_bad_value_names_its_setting() {
        type Case = (&'static str, fn(&mut PortalArgs));
        let cases: [Case; 9] = [
            ("SPEAKNODE_PUBLIC_URL", |a| {
                a.public_url = Some("ftp://x".into())
            }),
            ("SPEAKNODE_PORTAL_LINK_TTL", |a| {
                a.portal_link_ttl = "2h".into()
            }),
            ("SPEAKNODE_PORTAL_LINK_TTL", |a| {
                a.portal_link_ttl = "500ms".into()
            }),
            ("SPEAKNODE_PORTAL_EMBED_ORIGINS", |a| {
                a.portal_embed_origins = Some("https://app.speaknode.com/path".into())
            }),
            ("SPEAKNODE_PORTAL_EMBED_ORIGINS", |a| {
                a.portal_embed_origins = Some("*".into())
            }),
            ("SPEAKNODE_PORTAL_NAME", |a| {
                a.portal_name = Some("a\nb".into())
            }),
            ("SPEAKNODE_PORTAL_ACCENT", |a| {
                a.portal_accent = Some("red".into())
            }),
            ("SPEAKNODE_PORTAL_LOGO", |a| {
                a.portal_logo = Some("/nonexistent/logo.png".into())
            }),
            ("SPEAKNODE_DASHBOARD_KEY_LOGIN", |a| {
                a.dashboard_key_login = "maybe".into()
            }),
        ];
        for (setting, set) in cases {
            let error = with(set).expect_err(setting);
            assert_eq!(error.setting, setting, "{error}");
        }
    }

    #[test]
    fn a_logo_must_be_a_small_png_or_svg() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path.to_string_lossy().into_owned()
        };
        let svg = write("logo.svg", br#"<svg xmlns="http://www.w3.org/2000/svg"/>"#);
        let png = write("logo.png", b"\x89PNG\r\n\x1a\nrest");
        let text = write("logo.txt", b"hello");
        let big = write("big.png", &[0u8; MAX_LOGO_BYTES + 1]);
        let logo_of = |path: &str| with(|a| a.portal_logo = Some(path.to_string()));
        assert_eq!(
            logo_of(&svg).unwrap().logo.unwrap().content_type,
            "image/svg+xml"
        );
        assert_eq!(
            logo_of(&png).unwrap().logo.unwrap().content_type,
            "image/png"
        );
        assert!(logo_of(&text).is_err());
        assert!(logo_of(&big).is_err());
    }
}
