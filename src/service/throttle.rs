//! `SPEAKNODE_LOGIN_ATTEMPTS`: failed dashboard sign-ins counted per client address. Once an
//! address has failed N times in a window (which starts at its first failure), its sign-ins are
//! refused until the window ends, without the key being checked at all, so guessing keys from one
//! address is slow. Only failures count and only the failing address is refused: a successful
//! sign-in never resets the count (an attacker's own valid key would reset it), and nobody else's
//! sign-in is ever blocked.
//!
//! An IPv6 client counts as its /64, which one host or subscriber usually has whole: counting
//! single IPv6 addresses would give an attacker 2^64 fresh counters.
//!
//! Memory is bounded: at most [`MAX_TRACKED`] addresses are remembered. Windows all have the same
//! length, so the order addresses first failed in is also the order their windows end: expired
//! entries are dropped from the front of that order, and when a flood of distinct addresses fills
//! the table, the oldest window is forgotten first.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::config::LoginAttempts;

/// Addresses remembered at most (a few MiB).
pub const MAX_TRACKED: usize = 50_000;

/// Whom failures are counted for: an IPv4 address, or an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Client(IpAddr);

impl Client {
    fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    Self(IpAddr::V6(Ipv6Addr::from(prefix)))
                }
            },
        }
    }
}

struct Failures {
    count: u32,
    since: Instant,
}

#[derive(Default)]
struct Table {
    failures: HashMap<Client, Failures>,
    /// Clients in the order their windows started (and so end).
    order: VecDeque<(Client, Instant)>,
}

pub struct LoginThrottle {
    limit: LoginAttempts,
    table: Mutex<Table>,
}

impl LoginThrottle {
    pub fn new(limit: LoginAttempts) -> Self {
        Self {
            limit,
            table: Mutex::default(),
        }
    }

    /// `Some(wait)` when sign-ins from `ip` are refused for that long; `None` when it may try.
    pub fn refused(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let table = self.lock();
        let entry = table.failures.get(&Client::of(ip))?;
        let ends = entry.since + self.limit.window;
        (entry.count >= self.limit.failures && now < ends).then(|| ends - now)
    }

    /// Counts a failed sign-in from `ip`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let client = Client::of(ip);
        let mut table = self.lock();
        self.forget_expired(&mut table, now);
        if let Some(entry) = table.failures.get_mut(&client) {
            entry.count = entry.count.saturating_add(1);
            return;
        }
        while table.failures.len() >= MAX_TRACKED {
            let Some((oldest, _)) = table.order.pop_front() else {
                break;
            };
            table.failures.remove(&oldest);
        }
        table.failures.insert(
            client,
            Failures {
                count: 1,
                since: now,
            },
        );
        table.order.push_back((client, now));
    }

    /// How many addresses are remembered now.
    pub fn tracked(&self) -> usize {
        self.lock().failures.len()
    }

    fn forget_expired(&self, table: &mut Table, now: Instant) {
        while let Some(&(client, since)) = table.order.front() {
            if now < since + self.limit.window {
                break;
            }
            table.order.pop_front();
            table.failures.remove(&client);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // The table holds only counters, consistent after every statement: a panic elsewhere
        // while it was held leaves nothing half-done.
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn throttle(failures: u32, minutes: u64) -> LoginThrottle {
        LoginThrottle::new(LoginAttempts {
            failures,
            window: Duration::from_secs(minutes * 60),
        })
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn an_address_is_refused_after_its_failures_until_the_window_ends() {
        let throttle = throttle(3, 10);
        let (attacker, start) = (ip("203.0.113.7"), Instant::now());
        for _ in 0..3 {
            assert_eq!(throttle.refused(attacker, start), None);
            throttle.failed(attacker, start);
        }
        let wait = throttle.refused(attacker, start).expect("refused");
        assert_eq!(wait, Duration::from_secs(600));
        let later = start + Duration::from_secs(599);
        assert_eq!(
            throttle.refused(attacker, later),
            Some(Duration::from_secs(1))
        );
        let after = start + Duration::from_secs(600);
        assert_eq!(throttle.refused(attacker, after), None);
        throttle.failed(attacker, after);
        assert_eq!(throttle.refused(attacker, after), None, "a new window");
    }

    #[test]
    fn other_addresses_are_never_refused_for_someone_elses_failures() {
        let throttle = throttle(1, 10);
        let now = Instant::now();
        throttle.failed(ip("198.51.100.1"), now);
        assert!(throttle.refused(ip("198.51.100.1"), now).is_some());
        assert_eq!(throttle.refused(ip("198.51.100.2"), now), None);
        assert_eq!(throttle.refused(ip("2001:db8::1"), now), None);
    }

    #[test]
    fn an_ipv6_slash_64_counts_as_one_client_and_mapped_ipv4_as_ipv4() {
        let throttle = throttle(2, 10);
        let now = Instant::now();
        throttle.failed(ip("2001:db8:1:2::1"), now);
        throttle.failed(ip("2001:db8:1:2:ffff::9"), now);
        assert!(throttle.refused(ip("2001:db8:1:2::77"), now).is_some());
        assert_eq!(throttle.refused(ip("2001:db8:1:3::1"), now), None);

        throttle.failed(ip("::ffff:192.0.2.1"), now);
        throttle.failed(ip("192.0.2.1"), now);
        assert!(throttle.refused(ip("192.0.2.1"), now).is_some());
    }

    #[test]
    fn a_flood_of_distinct_addresses_stays_within_the_bound() {
        let throttle = throttle(10, 10);
        let now = Instant::now();
        let user = ip("192.0.2.200");
        for n in 0..100_000u32 {
            let address = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n));
            throttle.failed(address, now);
            assert!(throttle.tracked() <= MAX_TRACKED);
        }
        assert_eq!(throttle.tracked(), MAX_TRACKED);
        {
            let table = throttle.lock();
            assert_eq!(table.order.len(), MAX_TRACKED);
        }
        assert_eq!(throttle.refused(user, now), None);
        // The newest addresses are still counted after the flood.
        let last = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + 99_999));
        for _ in 0..9 {
            throttle.failed(last, now);
        }
        assert!(throttle.refused(last, now).is_some());
        assert_eq!(throttle.tracked(), MAX_TRACKED);
    }

    #[test]
    fn expired_addresses_are_forgotten() {
        let throttle = throttle(5, 1);
        let start = Instant::now();
        for n in 0..1000u32 {
            throttle.failed(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n)), start);
        }
        assert_eq!(throttle.tracked(), 1000);
        throttle.failed(ip("192.0.2.9"), start + Duration::from_secs(61));
        assert_eq!(throttle.tracked(), 1);
    }
}
