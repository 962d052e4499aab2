//! When the next attempt of a failed delivery is due. Pure: the caller passes the attempt number
//! and what the receiver asked for, so the schedule is tested exactly.

use std::time::Duration;

/// `Retry-After` is honoured only up to this, so a receiver cannot park a delivery for a month.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl RetrySchedule {
    pub fn new(delays: Vec<Duration>) -> Self {
        Self { delays }
    }

    /// Parses `5s,5m,30m`; an empty string means "no retries".
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Self::new(Vec::new()));
        }
        text.split(',')
            .map(|part| {
                humantime::parse_duration(part.trim())
                    .map_err(|e| format!("{:?} is not a duration like 5s or 2h ({e})", part.trim()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self::new)
    }

    /// Attempts a delivery gets in all: the first one plus one per delay.
    pub fn max_attempts(&self) -> u32 {
        self.delays.len() as u32 + 1
    }

    /// The delay before the attempt after `attempts_made` attempts, or `None` when the delivery is
    /// exhausted. A `Retry-After` the receiver sent (on 429/503) wins when it asks for later.
    pub fn next_delay(
        &self,
        attempts_made: u32,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let index = attempts_made.checked_sub(1)? as usize;
        let scheduled = *self.delays.get(index)?;
        let asked = retry_after
            .map(|d| d.min(MAX_RETRY_AFTER))
            .unwrap_or_default();
        Some(scheduled.max(asked))
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self::parse("5s,5m,30m,2h,5h,10h,10h").unwrap_or_else(|_| Self::new(Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn the_default_schedule_gives_eight_attempts() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.max_attempts(), 8);
        assert_eq!(schedule.next_delay(1, None), Some(S(5)));
        assert_eq!(schedule.next_delay(2, None), Some(S(300)));
        assert_eq!(schedule.next_delay(7, None), Some(S(36_000)));
        assert_eq!(schedule.next_delay(8, None), None);
    }

    #[test]
    fn retry_after_wins_only_when_later_and_is_capped_at_a_day() {
        let schedule = RetrySchedule::parse("5s,5m").expect("valid schedule");
        assert_eq!(schedule.next_delay(1, Some(S(2))), Some(S(5)));
        assert_eq!(schedule.next_delay(1, Some(S(60))), Some(S(60)));
        assert_eq!(
            schedule.next_delay(1, Some(S(10 * 86_400))),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(schedule.next_delay(3, Some(S(60))), None);
    }

    #[test]
    fn schedules_parse_humantime_lists() {
        assert_eq!(
            RetrySchedule::parse("500ms, 2h")
                .expect("valid")
                .max_attempts(),
            3
        );
        assert_eq!(RetrySchedule::parse("").expect("valid").max_attempts(), 1);
        assert!(RetrySchedule::parse("5s,soon").is_err());
    }
}
