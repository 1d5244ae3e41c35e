//! The `digests` section: a summary of the last day or week posted to a channel at a local time.
//! Its own module because each entry is checked as a whole (a weekday only makes sense weekly).

use chrono::{NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

use super::load::Problem;
use super::schema::Config;
use super::values::opt_snowflake;

/// When no `at` is given: the start of most working days.
pub const DEFAULT_AT: &str = "09:00";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Every {
    Day,
    Week,
}

impl Every {
    pub fn as_str(self) -> &'static str {
        match self {
            Every::Day => "day",
            Every::Week => "week",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Digest {
    pub every: Every,
    #[serde(default, with = "opt_snowflake")]
    pub channel_id: Option<u64>,
    /// Local time ("HH:MM", 24-hour) in `discordConfig.timezone`.
    #[serde(default)]
    pub at: Option<String>,
    /// Weekly digests only: the day it is posted on, covering the seven days before. Monday
    /// unless said.
    #[serde(default)]
    pub weekday: Option<String>,
}

impl Digest {
    /// The posting time; validation guarantees it parses.
    pub fn time(&self) -> NaiveTime {
        parse_time(self.at.as_deref().unwrap_or(DEFAULT_AT)).unwrap_or(NaiveTime::MIN)
    }

    /// The posting day of a weekly digest; validation guarantees it parses.
    pub fn day(&self) -> Weekday {
        self.weekday
            .as_deref()
            .and_then(|w| w.trim().parse().ok())
            .unwrap_or(Weekday::Mon)
    }

    /// "daily at 09:00" / "weekly on Monday at 09:00", for logs and check-config.
    pub fn describe(&self) -> String {
        let at = self.time().format("%H:%M");
        match self.every {
            Every::Day => format!("daily at {at}"),
            Every::Week => format!("weekly on {} at {at}", weekday_name(self.day())),
        }
    }
}

pub fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    let (h, m) = text.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

pub(super) fn problems(config: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut bad = |path: String, message: String| out.push(Problem { path, message });
    let mut seen = Vec::new();
    for (i, d) in config.digests.iter().enumerate() {
        let path = |key: &str| format!("digests[{i}].{key}");
        match d.channel_id {
            None => bad(
                path("channelId"),
                "expected the id of the channel the digest is posted in".into(),
            ),
            Some(channel) if seen.contains(&(d.every, channel)) => bad(
                path("every"),
                format!(
                    "a {} digest to channel {channel} is already set up",
                    d.every.as_str()
                ),
            ),
            Some(channel) => seen.push((d.every, channel)),
        }
        if let Some(at) = &d.at {
            if parse_time(at).is_none() {
                bad(
                    path("at"),
                    format!("expected a 24-hour time like \"09:00\", found {at:?}"),
                );
            }
        }
        if let Some(w) = &d.weekday {
            if d.every == Every::Day {
                bad(
                    path("weekday"),
                    "only weekly digests (\"every\": \"week\") have a weekday".into(),
                );
            } else if w.trim().parse::<Weekday>().is_err() {
                bad(
                    path("weekday"),
                    format!("expected a day like \"monday\", found {w:?}"),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(json: &str) -> Vec<String> {
        match Config::from_json(json) {
            Ok(_) => vec![],
            Err(super::super::ConfigError::Invalid(p)) => p.iter().map(|p| p.to_string()).collect(),
            Err(e) => vec![e.to_string()],
        }
    }

    #[test]
    fn a_daily_and_a_weekly_digest_load_with_their_defaults() {
        let c = Config::from_json(
            r#"{ "digests": [ { "every": "day", "channelId": "42" },
                              { "every": "week", "channelId": "42", "at": "18:30",
                                "weekday": "friday" } ] }"#,
        )
        .expect("loads");
        assert!(problems(&c).is_empty());
        assert_eq!(c.digests[0].describe(), "daily at 09:00");
        assert_eq!(c.digests[1].describe(), "weekly on Friday at 18:30");
    }

    #[test]
    fn bad_times_days_and_missing_channels_are_named() {
        let m = messages(
            r#"{ "digests": [ { "every": "day", "at": "9am" },
                              { "every": "day", "channelId": "1", "weekday": "monday" },
                              { "every": "week", "channelId": "1", "weekday": "someday" },
                              { "every": "day", "channelId": "1", "at": "24:00" } ] }"#,
        );
        assert_eq!(m.len(), 6, "{m:#?}");
        assert!(m[0].starts_with("digests[0].channelId"));
        assert!(m[1].contains("\"9am\""));
        assert!(m[2].starts_with("digests[1].weekday: only weekly"));
        assert!(m[3].contains("\"someday\""));
        assert!(m[4].starts_with("digests[3].every: a day digest to channel 1"));
        assert!(m[5].contains("\"24:00\""));
    }
}
