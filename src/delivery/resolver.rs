//! A DNS resolver for outgoing deliveries that drops blocked addresses. Checking the URL once at
//! create time is not enough: a name can resolve somewhere else at delivery time (DNS rebinding),
//! so the check runs on every resolution, before any connection is made.
//!
//! Through a forward proxy (`SPEAKNODE_PROXY_URL`) the proxy resolves the target and connects
//! to it, so no resolver of ours sees that connection: [`check_proxied_target`] resolves the name
//! first instead, and refuses it if any of its addresses is blocked.

use std::fmt;
use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

use crate::domain::address::is_blocked;

#[derive(Debug)]
pub struct BlockedAddressError(pub String);

impl fmt::Display for BlockedAddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} resolves only to blocked addresses", self.0)
    }
}

impl std::error::Error for BlockedAddressError {}

#[derive(Debug)]
pub struct DnsError(pub String);

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DNS lookup failed: {}", self.0)
    }
}

impl std::error::Error for DnsError {}

/// Whether `host` (a name, not an IP literal) resolves only to blocked addresses, checked when a
/// webhook URL is created or changed. A lookup that fails or takes over 2 s is not a refusal: the
/// delivery-time check still applies.
pub async fn host_resolves_only_to_blocked(host: &str) -> bool {
    let lookup = tokio::net::lookup_host((host, 0));
    match tokio::time::timeout(std::time::Duration::from_secs(2), lookup).await {
        Ok(Ok(found)) => {
            let ips: Vec<_> = found.map(|a| a.ip()).collect();
            crate::domain::address::resolves_only_to_blocked(&ips)
        }
        _ => false,
    }
}

pub struct GuardedResolver {
    pub allow_private: bool,
}

async fn lookup(host: &str) -> Result<Vec<SocketAddr>, BoxError> {
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| -> BoxError { Box::new(DnsError(format!("{host}: {e}"))) })?
        .collect();
    if found.is_empty() {
        return Err(Box::new(DnsError(format!("{host}: no addresses"))));
    }
    Ok(found)
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let allow_private = self.allow_private;
        Box::pin(async move {
            let allowed: Vec<SocketAddr> = lookup(&host)
                .await?
                .into_iter()
                .filter(|a| allow_private || !is_blocked(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(BlockedAddressError(host)) as BoxError);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Before a delivery to the name `host` goes to the forward proxy: resolves it and refuses it
/// if any address is blocked. Without a proxy the blocked addresses are simply skipped, but the
/// proxy picks among all the addresses itself, so one blocked address is enough to refuse. (The
/// proxy resolves the name again: see "Static egress IPs" in docs/operating.md for making it
/// refuse private ranges too.)
pub async fn check_proxied_target(host: &str) -> Result<(), BoxError> {
    let found = lookup(host).await?;
    if found.iter().any(|a| is_blocked(a.ip())) {
        return Err(Box::new(BlockedAddressError(host.to_string())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    async fn resolve(host: &str, allow_private: bool) -> Result<Vec<SocketAddr>, BoxError> {
        let resolver = GuardedResolver { allow_private };
        let name = Name::from_str(host).expect("valid name");
        resolver.resolve(name).await.map(|addrs| addrs.collect())
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_before_any_connection() {
        let error = resolve("localhost", false)
            .await
            .expect_err("must be refused");
        assert!(error.is::<BlockedAddressError>(), "{error}");
    }

    #[tokio::test]
    async fn private_targets_resolve_when_allowed() {
        let addrs = resolve("localhost", true).await.expect("resolves");
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }

    #[tokio::test]
    async fn a_proxied_target_is_refused_when_its_name_resolves_to_a_blocked_address() {
        let error = check_proxied_target("localhost")
            .await
            .expect_err("must be refused");
        assert!(error.is::<BlockedAddressError>(), "{error}");
        let error = check_proxied_target("no-such-host.invalid")
            .await
            .expect_err("must fail");
        assert!(error.is::<DnsError>(), "{error}");
    }

    #[tokio::test]
    async fn an_unknown_name_is_a_dns_error() {
        let error = resolve("no-such-host.invalid", false)
            .await
            .expect_err("must fail");
        assert!(error.is::<DnsError>(), "{error}");
    }
}
