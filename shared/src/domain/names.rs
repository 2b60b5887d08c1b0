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

/// Bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069).
/// In a name they reorder what follows ("\u{202E}gnp.exe" shows as "exe.png"), so names
/// refuse them; bodies keep them, as right-to-left writing uses them and they cannot move a
/// terminal's cursor or send it commands.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// True for a character no one-line label (a name, topic, description, webhook name or
/// username) may hold: every control character (C0 including tab and newline, DEL, C1 such
/// as U+009B, a terminal's one-byte CSI), the bidi controls, and the line and paragraph
/// separators.
#[must_use]
pub fn unfit_for_label(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// True for a character a message body may not hold: every control character except
/// newline and tab (a carriage return is kept only as part of CR LF, which `MessageBody`
/// stores as a newline).
fn unfit_for_body(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

fn invalid_characters(field: &'static str, found: char, allowed: &str) -> ValidationError {
    ValidationError::invalid(
        field,
        ErrorCode::InvalidCharacters,
        format!("must not contain control characters{allowed} (found U+{:04X})", u32::from(found)),
    )
}

/// Refuses a one-line label holding a character `unfit_for_label`, naming `field` and the
/// character. Every name parser below applies it; callers with a label of their own (a
/// webhook's name or username override) call it directly.
pub fn check_label(field: &'static str, value: &str) -> Result<(), ValidationError> {
    match value.chars().find(|c| unfit_for_label(*c)) {
        Some(found) => Err(invalid_characters(field, found, "")),
        None => Ok(()),
    }
}

/// Zero-width and other invisible characters an emoji sequence never needs (it needs only
/// U+200D ZWJ and the variation selectors, which stay allowed).
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200C}' | '\u{200E}' | '\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}')
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
    /// A community's shown name: 1 to 100 characters after trimming, none `unfit_for_label`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim();
        if value.is_empty() || value.chars().count() > 100 {
            return Err(ValidationError::invalid(field, ErrorCode::InvalidName, "must be 1 to 100 characters"));
        }
        check_label(field, value)?;
        Ok(Self(value.to_owned()))
    }
}

impl MessageBody {
    /// A Markdown body: not blank, at most `max_chars` characters (Unicode scalar values),
    /// no control characters but newline and tab. CR LF line ends (what browsers send from a
    /// text area) are stored as `\n`; any other control character, a lone CR included, is
    /// refused rather than stripped, so what is stored is what the sender sees.
    pub fn parse(field: &'static str, raw: &str, max_chars: usize) -> Result<Self, ValidationError> {
        let normalized;
        let raw = if raw.contains("\r\n") {
            normalized = raw.replace("\r\n", "\n");
            normalized.as_str()
        } else {
            raw
        };
        if let Some(found) = raw.chars().find(|c| unfit_for_body(*c)) {
            return Err(invalid_characters(field, found, " other than newline and tab"));
        }
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
    /// characters, not plain ASCII, no spaces, no control, bidi or invisible characters
    /// but the zero-width joiner and variation selectors emoji sequences are made of).
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let shortcode = raw.len() > 2
            && raw.len() <= 64
            && raw.starts_with(':')
            && raw.ends_with(':')
            && raw[1..raw.len() - 1].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_+-".contains(c));
        let unicode = !raw.is_empty()
            && raw.chars().count() <= 64
            && !raw.is_ascii()
            && !raw.chars().any(|c| c.is_whitespace() || unfit_for_label(c) || is_invisible(c));
        if shortcode || unicode {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::invalid(field, ErrorCode::InvalidEmoji, "must be an emoji or a :shortcode:"))
        }
    }
}

impl DisplayName {
    /// A person's shown name: 1 to 64 characters after trimming, none `unfit_for_label`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim();
        if value.is_empty() || value.chars().count() > 64 {
            return Err(ValidationError::invalid(field, ErrorCode::InvalidName, "must be 1 to 64 characters"));
        }
        check_label(field, value)?;
        Ok(Self(value.to_owned()))
    }
}

/// Optional free text (a topic, a description): trimmed, blank meaning none, at most
/// `max_chars` characters (longer is 422 with `code`), one line: none `unfit_for_label`.
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
    if let Some(text) = text {
        check_label(field, text)?;
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn emoji_refuse_bidi_and_invisible_characters_but_keep_emoji_sequences() {
        for bad in ["\u{202E}kcuf", "\u{200B}👍", "👍\u{FEFF}", "\u{2066}👍"] {
            assert!(Emoji::parse("emoji", bad).is_err(), "{bad:?}");
        }
        for good in ["👩\u{200D}💻", "❤\u{FE0F}", "🇫🇷"] {
            assert!(Emoji::parse("emoji", good).is_ok(), "{good:?}");
        }
    }

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

    /// Characters a terminal would act on, or that disguise text, with what each text kind
    /// does with them: (character, allowed in a label, allowed in a body).
    const CHARACTERS: [(char, bool, bool); 16] = [
        ('\u{1B}', false, false),  // ESC: starts CSI, OSC (52: clipboard writes) sequences
        ('\u{07}', false, false),  // BEL: ends an OSC sequence
        ('\u{00}', false, false),  // NUL
        ('\u{08}', false, false),  // backspace: overwrites what was shown
        ('\r', false, false),      // a lone carriage return: overwrites the line
        ('\u{0C}', false, false),  // form feed
        ('\u{7F}', false, false),  // DEL
        ('\u{85}', false, false),  // NEL (C1)
        ('\u{9B}', false, false),  // CSI as one C1 character
        ('\u{9D}', false, false),  // OSC as one C1 character
        ('\n', false, true),       // newline: bodies are multi-line
        ('\t', false, true),       // tab
        ('\u{202E}', false, true), // right-to-left override: spoofs names, is RTL writing in bodies
        ('\u{2066}', false, true), // left-to-right isolate
        ('\u{2028}', false, true), // line separator
        ('é', true, true),         // ordinary text
    ];

    #[test]
    fn labels_and_bodies_refuse_terminal_control_characters_and_name_the_field() {
        for (c, in_label, in_body) in CHARACTERS {
            let text = format!("a{c}b");
            let code = u32::from(c);
            let label_results = [
                DisplayName::parse("display_name", &text).map(|_| ()),
                CommunityName::parse("name", &text).map(|_| ()),
                optional_text("topic", ErrorCode::TopicTooLong, Some(&text), 250).map(|_| ()),
                check_label("username", &text),
            ];
            for result in label_results {
                match result {
                    Ok(()) => assert!(in_label, "U+{code:04X} accepted in a label"),
                    Err(err) => {
                        assert!(!in_label, "U+{code:04X} refused in a label: {err}");
                        assert_eq!(err.code, ErrorCode::InvalidCharacters);
                        assert!(err.message.contains(&format!("U+{code:04X}")), "{err}");
                        assert!(!err.too_long);
                    }
                }
            }
            match MessageBody::parse("body_md", &text, 100) {
                Ok(body) => {
                    assert!(in_body, "U+{code:04X} accepted in a body");
                    assert_eq!(body.as_str(), text, "kept as sent");
                }
                Err(err) => {
                    assert!(!in_body, "U+{code:04X} refused in a body: {err}");
                    assert_eq!((err.field, err.code), ("body_md", ErrorCode::InvalidCharacters));
                }
            }
        }
    }

    #[test]
    fn a_body_stores_crlf_line_ends_as_newlines() {
        let body = MessageBody::parse("body_md", "one\r\ntwo\r\n", 100).expect("valid");
        assert_eq!(body.as_str(), "one\ntwo\n");
        assert!(MessageBody::parse("body_md", "one\rtwo", 100).is_err(), "a lone CR");
    }

    #[test]
    fn message_bodies_must_be_non_blank_and_within_the_limit() {
        assert_eq!(MessageBody::parse("body_md", "  ", 10).expect_err("blank").code, ErrorCode::EmptyBody);
        let err = MessageBody::parse("body_md", "ééééé", 4).expect_err("too long");
        assert!(err.too_long);
        assert!(MessageBody::parse("body_md", "éééé", 4).is_ok());
    }
}
