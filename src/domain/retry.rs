//! When the next attempt of a failed delivery is due. Pure: the caller passes the attempt number
//! and what the receiver asked for, so the schedule is tested exactly.

use std::time::Duration;

/// `Retry-After` is honoured only up to this, so a receiver cannot park a delivery for a month.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// A webhook's own schedule may hold at most this many delays. The global
/// `SPEAKNODE_RETRY_SCHEDULE` is the operator's choice and is not limited.
pub const MAX_WEBHOOK_DELAYS: usize = 30;
/// Each delay of a webhook's own schedule is at most a week, so one webhook cannot keep a
/// delivery pending for months.
pub const MAX_WEBHOOK_DELAY: Duration = Duration::from_secs(7 * 24 * 60 * 60);

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

    /// The form a webhook sets for itself: the same text as `SPEAKNODE_RETRY_SCHEDULE`, within
    /// [`MAX_WEBHOOK_DELAYS`] delays of at most [`MAX_WEBHOOK_DELAY`] each.
    pub fn parse_for_webhook(text: &str) -> Result<Self, String> {
        let schedule = Self::parse(text)?;
        if schedule.delays.len() > MAX_WEBHOOK_DELAYS {
            return Err(format!(
                "must hold at most {MAX_WEBHOOK_DELAYS} delays, not {}",
                schedule.delays.len()
            ));
        }
        if let Some(too_long) = schedule.delays.iter().find(|d| **d > MAX_WEBHOOK_DELAY) {
            return Err(format!(
                "delays must be at most 7d, not {}",
                humantime::format_duration(*too_long)
            ));
        }
        Ok(schedule)
    }

    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// The text form, `5s,5m,30m` (empty for no retries), which [`RetrySchedule::parse`] reads
    /// back to the same schedule.
    pub fn to_text(&self) -> String {
        self.delays
            .iter()
            .map(|d| humantime::format_duration(*d).to_string())
            .collect::<Vec<_>>()
            .join(",")
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

    #[test]
    fn a_webhook_schedule_is_limited_but_the_global_one_is_not() {
        let thirty_one = vec!["1s"; 31].join(",");
        assert!(RetrySchedule::parse(&thirty_one).is_ok());
        assert!(RetrySchedule::parse_for_webhook(&thirty_one).is_err());
        assert!(RetrySchedule::parse_for_webhook(&vec!["1s"; 30].join(",")).is_ok());
        assert!(RetrySchedule::parse("8d").is_ok());
        assert!(RetrySchedule::parse_for_webhook("8d").is_err());
        assert!(RetrySchedule::parse_for_webhook("7d").is_ok());
    }

    #[test]
    fn the_text_form_reads_back_to_the_same_schedule() {
        let schedule = RetrySchedule::parse("500ms,90s,2h,7d").expect("valid");
        assert_eq!(schedule.to_text(), "500ms,1m 30s,2h,7days");
        assert_eq!(RetrySchedule::parse(&schedule.to_text()), Ok(schedule));
        assert_eq!(RetrySchedule::new(Vec::new()).to_text(), "");
    }
}
