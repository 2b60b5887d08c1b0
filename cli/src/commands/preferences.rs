//! Your own preferences in a channel: `star`, `unstar`, `mute` (until unmuted, `--until` a
//! time or `--for` a while), `unmute` and `notify all|mentions|none`. Each changes one
//! preference through the API and prints the channel's preferences as they now are. A
//! `@user` target is a DM already open with them: none is opened (exit 4 when there is
//! none).

use ajet_shared::api::wire::{NotifyLevel, UpdatePreferencesRequest};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::args::{LevelArg, MuteArgs, PreferenceCommand};
use crate::escape;
use crate::failure::Failure;
use crate::output::{self, Output};
use crate::session::Session;

pub async fn run(session: &Session, command: PreferenceCommand, out: Output) -> Result<(), Failure> {
    let now = OffsetDateTime::now_utc();
    let (channel, request) = match command {
        PreferenceCommand::Star { channel } => (channel, starred(true)),
        PreferenceCommand::Unstar { channel } => (channel, starred(false)),
        PreferenceCommand::Mute(MuteArgs { channel, until, for_ }) => {
            let until = mute_end(until.as_deref(), for_.as_deref(), now)?;
            (
                channel,
                UpdatePreferencesRequest { muted_until: Some(Some(until)), ..UpdatePreferencesRequest::default() },
            )
        }
        PreferenceCommand::Unmute { channel } => {
            (channel, UpdatePreferencesRequest { muted_until: Some(None), ..UpdatePreferencesRequest::default() })
        }
        PreferenceCommand::Notify { channel, level } => {
            let level = match level {
                LevelArg::All => NotifyLevel::All,
                LevelArg::Mentions => NotifyLevel::Mentions,
                LevelArg::None => NotifyLevel::None,
            };
            (channel, UpdatePreferencesRequest { notify_level: Some(level), ..UpdatePreferencesRequest::default() })
        }
    };
    // `@user` names an existing DM: changing a preference never opens one.
    let channel = session.existing_channel(&channel).await?;
    let preferences = session.client.update_preferences(channel.id, &request).await?;
    if out.json {
        return out.json(&preferences);
    }
    let label = channel.name.as_deref().map_or_else(|| "this DM".to_owned(), |name| format!("#{}", escape::line(name)));
    println!("{}: {}", out.style.bold(&label), output::preference_summary(&preferences, OffsetDateTime::now_utc()));
    Ok(())
}

fn starred(starred: bool) -> UpdatePreferencesRequest {
    UpdatePreferencesRequest { starred: Some(starred), ..UpdatePreferencesRequest::default() }
}

/// When a mute starting `now` ends: at `until` (RFC 3339), after `for_` (`30m`, `8h`,
/// `2d`, `1w`), else never (far enough ahead, as the browser mutes).
fn mute_end(until: Option<&str>, for_: Option<&str>, now: OffsetDateTime) -> Result<OffsetDateTime, Failure> {
    let end = match (until, for_) {
        (Some(until), _) => OffsetDateTime::parse(until.trim(), &Rfc3339).map_err(|_| {
            Failure::Usage(format!("--until: {until:?} is not a time like 2026-12-01T09:00:00Z (RFC 3339)"))
        })?,
        (None, Some(span)) => now + duration(span)?,
        (None, None) => return Ok(now + output::MUTE_FOREVER),
    };
    if end <= now {
        return Err(Failure::Usage(format!("the mute would end in the past ({} UTC)", output::time(end))));
    }
    Ok(end)
}

/// `30m`, `8h`, `2d` or `1w` as a duration (at most a year).
fn duration(raw: &str) -> Result<time::Duration, Failure> {
    let bad = || Failure::Usage(format!("--for: {raw:?} is not a duration like 30m, 8h, 2d or 1w"));
    let raw = raw.trim();
    let unit = raw.chars().last().ok_or_else(bad)?;
    let count: i64 = raw[..raw.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
    let minutes = match unit {
        'm' => count,
        'h' => count.checked_mul(60).ok_or_else(bad)?,
        'd' => count.checked_mul(60 * 24).ok_or_else(bad)?,
        'w' => count.checked_mul(60 * 24 * 7).ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    if !(1..=60 * 24 * 366).contains(&minutes) {
        return Err(Failure::Usage(format!("--for: {raw:?} must be between 1 minute and a year")));
    }
    Ok(time::Duration::minutes(minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_in_minutes_hours_days_and_weeks() {
        assert_eq!(duration("30m").ok(), Some(time::Duration::minutes(30)));
        assert_eq!(duration("8h").ok(), Some(time::Duration::hours(8)));
        assert_eq!(duration("2d").ok(), Some(time::Duration::days(2)));
        assert_eq!(duration("1w").ok(), Some(time::Duration::weeks(1)));
        for bad in ["", "h", "10", "5s", "-1h", "0m", "2y", "999999999999w", "1.5h", "×h"] {
            assert!(duration(bad).is_err(), "{bad:?} is refused");
        }
    }

    #[test]
    fn a_mute_ends_when_asked_and_never_in_the_past() {
        let now = OffsetDateTime::now_utc();
        assert_eq!(mute_end(None, Some("1h"), now).ok(), Some(now + time::Duration::hours(1)));
        assert_eq!(mute_end(None, None, now).ok(), Some(now + output::MUTE_FOREVER));
        let until = mute_end(Some("2999-01-01T00:00:00Z"), None, now).ok().map(OffsetDateTime::year);
        assert_eq!(until, Some(2999));
        assert!(matches!(mute_end(Some("2001-01-01T00:00:00Z"), None, now), Err(Failure::Usage(_))));
        assert!(matches!(mute_end(Some("tomorrow"), None, now), Err(Failure::Usage(_))));
    }
}
