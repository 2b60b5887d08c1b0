//! Validated newtypes for user input: parse at the edge, trust inside.

use crate::api::ErrorCode;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an input was refused; the HTTP layer turns it into a 400/422 naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub code: ErrorCode,
    pub message: String,
    /// Too long is "unprocessable" (422) rather than malformed (400).
    pub too_long: bool,
}

impl ValidationError {
    fn invalid(field: &'static str, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { field, code, message: message.into(), too_long: false }
    }
}

fn is_slug_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// Checks `^[a-z0-9][a-z0-9<extra>]{0,max-1}$`, the shape the schema also enforces.
fn check_handle(field: &'static str, value: &str, max: usize, extra: &[char]) -> Result<(), ValidationError> {
    let mut chars = value.chars();
    let valid_first = chars.next().is_some_and(is_slug_char);
    let valid_rest = chars.all(|c| is_slug_char(c) || extra.contains(&c));
    if value.len() > max || !valid_first || !valid_rest {
        let allowed: String = extra.iter().map(|c| format!(" '{c}'")).collect();
        return Err(ValidationError::invalid(
            field,
            ErrorCode::InvalidName,
            format!(
                "must be 1 to {max} characters: lowercase letters, digits and{allowed}, starting with a letter or digit"
            ),
        ));
    }
    Ok(())
}

macro_rules! string_newtype {
    ($name:ident) => {
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            #[must_use]
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_newtype!(Username);
string_newtype!(Slug);
string_newtype!(ChannelName);
string_newtype!(CommunityName);
string_newtype!(MessageBody);
string_newtype!(ClientMsgId);
string_newtype!(Emoji);
string_newtype!(DisplayName);

impl Username {
    /// A login handle: lowercased, `[a-z0-9][a-z0-9_.-]{0,31}`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim().to_lowercase();
        check_handle(field, &value, 32, &['_', '.', '-'])?;
        Ok(Self(value))
    }
}

impl Slug {
    /// A community's URL name: `[a-z0-9][a-z0-9-]{1,39}`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim().to_owned();
        check_handle(field, &value, 40, &['-'])?;
        if value.len() < 2 {
            return Err(ValidationError::invalid(field, ErrorCode::InvalidName, "must be at least 2 characters"));
        }
        Ok(Self(value))
    }
}

impl ChannelName {
    /// A channel name: `[a-z0-9][a-z0-9_-]{0,79}`; a leading `#` is accepted and dropped.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim().trim_start_matches('#').to_owned();
        check_handle(field, &value, 80, &['_', '-'])?;
        Ok(Self(value))
    }
}

impl CommunityName {
    /// A display name: 1 to 100 characters after trimming, no control characters.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim();
        if value.is_empty() || value.chars().count() > 100 || value.chars().any(char::is_control) {
            return Err(ValidationError::invalid(
                field,
                ErrorCode::InvalidName,
                "must be 1 to 100 printable characters",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

impl MessageBody {
    /// A Markdown body: not blank, at most `max_chars` characters (Unicode scalar values).
    pub fn parse(field: &'static str, raw: &str, max_chars: usize) -> Result<Self, ValidationError> {
        if raw.trim().is_empty() {
            return Err(ValidationError::invalid(field, ErrorCode::EmptyBody, "must not be empty"));
        }
        let chars = raw.chars().count();
        if chars > max_chars {
            return Err(ValidationError {
                field,
                code: ErrorCode::MessageTooLong,
                message: format!("is {chars} characters long; the limit is {max_chars}"),
                too_long: true,
            });
        }
        Ok(Self(raw.to_owned()))
    }
}

impl ClientMsgId {
    /// The client's idempotency key for a send: 1 to 100 visible ASCII characters.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() || raw.len() > 100 || !raw.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ValidationError::invalid(
                field,
                ErrorCode::InvalidClientMsgId,
                "must be 1 to 100 visible ASCII characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
}

impl Emoji {
    /// A reaction: a `:shortcode:` (`[a-z0-9_+-]`) or Unicode emoji text (up to 64
    /// characters, no spaces or control characters, not plain ASCII).
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let shortcode = raw.len() > 2
            && raw.len() <= 64
            && raw.starts_with(':')
            && raw.ends_with(':')
            && raw[1..raw.len() - 1].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_+-".contains(c));
        let unicode = !raw.is_empty()
            && raw.chars().count() <= 64
            && !raw.is_ascii()
            && !raw.chars().any(|c| c.is_whitespace() || c.is_control());
        if shortcode || unicode {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::invalid(field, ErrorCode::InvalidEmoji, "must be an emoji or a :shortcode:"))
        }
    }
}

impl DisplayName {
    /// A person's shown name: 1 to 64 printable characters after trimming.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim();
        if value.is_empty() || value.chars().count() > 64 || value.chars().any(char::is_control) {
            return Err(ValidationError::invalid(
                field,
                ErrorCode::InvalidName,
                "must be 1 to 64 printable characters",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

/// Optional free text (a topic, a description): trimmed, blank meaning none, at most
/// `max_chars` characters (longer is 422 with `code`).
pub fn optional_text<'a>(
    field: &'static str,
    code: ErrorCode,
    raw: Option<&'a str>,
    max_chars: usize,
) -> Result<Option<&'a str>, ValidationError> {
    let text = raw.map(str::trim).filter(|t| !t.is_empty());
    if text.is_some_and(|t| t.chars().count() > max_chars) {
        return Err(ValidationError {
            field,
            code,
            message: format!("the limit is {max_chars} characters"),
            too_long: true,
        });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn emoji_are_unicode_or_shortcodes() {
        for good in ["👍", "👨‍👩‍👧", ":thumbsup:", ":+1:", "❤️"] {
            assert!(Emoji::parse("emoji", good).is_ok(), "{good}");
        }
        for bad in ["", "abc", ":Bad:", "::", "👍 👍", ":a b:"] {
            assert!(Emoji::parse("emoji", bad).is_err(), "{bad}");
        }
    }

    use super::*;

    #[test]
    fn usernames_are_lowercased_and_checked() {
        assert_eq!(Username::parse("username", " Alice ").expect("valid").as_str(), "alice");
        for bad in ["", "-x", "a b", "ü", &"a".repeat(33)] {
            let err = Username::parse("username", bad).expect_err(bad);
            assert_eq!(err.field, "username");
        }
    }

    #[test]
    fn channel_names_drop_a_leading_hash() {
        assert_eq!(ChannelName::parse("name", "#general").expect("valid").as_str(), "general");
        assert!(ChannelName::parse("name", "General").is_err());
    }

    #[test]
    fn message_bodies_must_be_non_blank_and_within_the_limit() {
        assert_eq!(MessageBody::parse("body_md", "  ", 10).expect_err("blank").code, ErrorCode::EmptyBody);
        let err = MessageBody::parse("body_md", "ééééé", 4).expect_err("too long");
        assert!(err.too_long);
        assert!(MessageBody::parse("body_md", "éééé", 4).is_ok());
    }
}
