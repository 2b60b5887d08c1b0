//! The search query language of `GET /api/search?q=`: words (the last one typed is a
//! prefix, for search-as-you-type), `"exact phrases"`, `-negation`, `OR`, `prefix*`, and
//! the operators `in:#channel`, `in:@user` (a DM), `from:@user`, `has:link|file|mention|reaction`,
//! `is:thread|pinned` and `before:`/`after:`/`on:` dates in the client's time zone. Parsing
//! is pure; `shared::db::search` turns a parsed query into SQL. A malformed query is a
//! `QueryError` naming the problem.

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use time::OffsetDateTime;

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// The most words and phrases a query may hold.
pub const MAX_TERMS: usize = 16;

/// A word or a phrase to find.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    /// One word, lowercased; `prefix` matches the words it starts (`deploy*`, or the last
    /// word typed).
    Word { text: String, prefix: bool },
    /// Words that must appear in this order, next to each other.
    Phrase(String),
}

impl Term {
    /// The text searched for.
    #[must_use]
    pub fn text(&self) -> &str {
        match self {
            Self::Word { text, .. } | Self::Phrase(text) => text,
        }
    }
}

/// What a message may have (`has:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Has {
    Link,
    File,
    Mention,
    Reaction,
}

/// What a message may be (`is:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Is {
    /// A thread's root with replies, or a reply.
    Thread,
    Pinned,
}

/// The operators of a query; every list is "any of", every set "all of".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    /// `in:#name`: community channels by name (without `#`).
    pub in_channels: Vec<String>,
    /// `in:@user`: the caller's DM with this user (username without `@`).
    pub in_dms: Vec<String>,
    /// `from:@user`: authors (usernames without `@`).
    pub from: Vec<String>,
    pub has: BTreeSet<Has>,
    pub is: BTreeSet<Is>,
    /// Posted at or after this instant (`after:` the day before it, `on:` that day).
    pub after: Option<OffsetDateTime>,
    /// Posted before this instant (`before:` that day, `on:` the day after).
    pub before: Option<OffsetDateTime>,
}

impl Filters {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A parsed query: every clause must match (one of its terms), no negated term may.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    /// Each clause is satisfied by any one of its terms (`a OR b`).
    pub clauses: Vec<Vec<Term>>,
    pub negated: Vec<Term>,
    pub filters: Filters,
}

/// Why a query cannot be run; the message says what to change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("q: give at least one word, phrase or operator")]
    Empty,
    #[error("q: at most {MAX_QUERY_CHARS} characters")]
    TooLong,
    #[error("q: at most {MAX_TERMS} words and phrases")]
    TooManyTerms,
    #[error("q: control characters are not allowed")]
    ControlCharacter,
    #[error("q: unbalanced quote: close the phrase that starts at character {0}")]
    UnbalancedQuote(usize),
    #[error(
        "q: unknown operator `{0}:`; use in:, from:, has:, is:, before:, after: or on: (or quote the text to find it)"
    )]
    UnknownOperator(String),
    #[error("q: `{0}:` needs a value, e.g. {1}")]
    MissingValue(&'static str, &'static str),
    #[error("q: `{operator}:{value}`: {expected}")]
    InvalidValue { operator: &'static str, value: String, expected: &'static str },
    #[error("q: OR must stand between two words or phrases")]
    DanglingOr,
    #[error("q: a negated term (-{0}) cannot be part of an OR")]
    NegatedOr(String),
    #[error("q: only a word or a phrase can be negated, not `-{0}`")]
    NegatedOperator(String),
    #[error("q: the query must find something besides what it excludes (add a word or an operator)")]
    OnlyNegations,
}

/// One piece of the input.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Term { term: Term, negated: bool },
    Or,
    Filter,
}

/// Parses `input`, reading dates in `tz`.
///
/// ```
/// use ajet_shared::search::{parse, Term};
/// let query = parse(r#"deploy "prod db" -staging from:@alice in:#ops rollb"#, &jiff::tz::TimeZone::UTC).unwrap();
/// assert_eq!(query.clauses[0], [Term::Word { text: "deploy".into(), prefix: false }]);
/// assert_eq!(query.clauses[1], [Term::Phrase("prod db".into())]);
/// assert_eq!(query.clauses[2], [Term::Word { text: "rollb".into(), prefix: true }]);
/// assert_eq!(query.negated, [Term::Word { text: "staging".into(), prefix: false }]);
/// assert_eq!(query.filters.from, ["alice"]);
/// assert_eq!(query.filters.in_channels, ["ops"]);
/// ```
pub fn parse(input: &str, tz: &TimeZone) -> Result<ParsedQuery, QueryError> {
    if input.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong);
    }
    // Tabs and newlines separate words like spaces; other control characters are nothing a
    // message holds (and Postgres text cannot hold NUL).
    if input.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(QueryError::ControlCharacter);
    }
    let mut query = ParsedQuery::default();
    let mut tokens = Vec::new();
    let chars: Vec<char> = input.chars().collect();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        if c.is_whitespace() {
            at += 1;
            continue;
        }
        let negated = c == '-' && chars.get(at + 1).is_some_and(|next| !next.is_whitespace());
        let start = if negated { at + 1 } else { at };
        if chars[start] == '"' {
            let close =
                chars[start + 1..].iter().position(|&c| c == '"').ok_or(QueryError::UnbalancedQuote(start + 1))?;
            let text: String = chars[start + 1..start + 1 + close].iter().collect();
            at = start + close + 2;
            let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
            if words.iter().any(|word| word.chars().any(char::is_alphanumeric)) {
                tokens.push(Token::Term { term: Term::Phrase(words.join(" ")), negated });
            }
            continue;
        }
        let end = chars[start..].iter().position(|&c| c.is_whitespace() || c == '"').map_or(chars.len(), |n| start + n);
        let word: String = chars[start..end].iter().collect();
        at = end;
        if word == "OR" && !negated {
            tokens.push(Token::Or);
            continue;
        }
        if let Some((name, value)) = operator(&word) {
            if negated {
                return Err(QueryError::NegatedOperator(word));
            }
            apply_operator(&mut query.filters, name, value, tz)?;
            tokens.push(Token::Filter);
            continue;
        }
        let stem = word.trim_end_matches('*');
        // Punctuation alone finds nothing (the index holds words).
        if !stem.chars().any(char::is_alphanumeric) {
            continue;
        }
        let term = Term::Word { text: stem.to_lowercase(), prefix: stem.len() != word.len() };
        tokens.push(Token::Term { term, negated });
    }
    // Search-as-you-type: the word still being typed (last, no space after it) is a prefix.
    if !input.ends_with(char::is_whitespace)
        && let Some(Token::Term { term: Term::Word { prefix, .. }, negated: false }) = tokens.last_mut()
    {
        *prefix = true;
    }
    group(tokens, &mut query)?;
    if query.clauses.iter().map(Vec::len).sum::<usize>() + query.negated.len() > MAX_TERMS {
        return Err(QueryError::TooManyTerms);
    }
    if query.clauses.is_empty() && query.filters.is_empty() {
        return Err(if query.negated.is_empty() { QueryError::Empty } else { QueryError::OnlyNegations });
    }
    Ok(query)
}

/// Joins `OR`-ed terms into clauses.
fn group(tokens: Vec<Token>, query: &mut ParsedQuery) -> Result<(), QueryError> {
    let mut joining = false;
    let mut last_was_term = false;
    for token in tokens {
        match token {
            Token::Or => {
                if !last_was_term || joining {
                    return Err(QueryError::DanglingOr);
                }
                joining = true;
            }
            Token::Term { term, negated: true } => {
                if joining {
                    return Err(QueryError::NegatedOr(term.text().to_owned()));
                }
                query.negated.push(term);
                last_was_term = false;
            }
            Token::Term { term, negated: false } => {
                match query.clauses.last_mut() {
                    Some(clause) if joining => clause.push(term),
                    _ => query.clauses.push(vec![term]),
                }
                joining = false;
                last_was_term = true;
            }
            Token::Filter => {
                if joining {
                    return Err(QueryError::DanglingOr);
                }
                last_was_term = false;
            }
        }
    }
    if joining {
        return Err(QueryError::DanglingOr);
    }
    Ok(())
}

/// `name:value` when `word` is written as an operator: letters, a colon, a value that does
/// not start with `/` (so `https://…` and `12:30` stay words). A bare `word:` (or `word:*`)
/// is a word unless `word` is an operator's name.
fn operator(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once(':')?;
    let looks_like = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphabetic()) && !value.starts_with('/');
    let bare = value.trim_end_matches('*').is_empty();
    (looks_like && (!bare || is_known(name))).then_some((name, value))
}

fn is_known(name: &str) -> bool {
    matches!(name.to_ascii_lowercase().as_str(), "in" | "from" | "has" | "is" | "before" | "after" | "on")
}

fn apply_operator(filters: &mut Filters, name: &str, value: &str, tz: &TimeZone) -> Result<(), QueryError> {
    let name = name.to_ascii_lowercase();
    let invalid = |operator: &'static str, expected: &'static str| QueryError::InvalidValue {
        operator,
        value: value.to_owned(),
        expected,
    };
    let lower = value.to_lowercase();
    match name.as_str() {
        "in" => {
            if value.is_empty() {
                return Err(QueryError::MissingValue("in", "in:#general or in:@alice"));
            }
            if let Some(user) = lower.strip_prefix('@') {
                filters.in_dms.push(checked_name(user).ok_or_else(|| invalid("in", "expected @username"))?);
            } else {
                let channel = lower.strip_prefix('#').unwrap_or(&lower);
                filters.in_channels.push(checked_name(channel).ok_or_else(|| invalid("in", "expected #channel"))?);
            }
        }
        "from" => {
            if value.is_empty() {
                return Err(QueryError::MissingValue("from", "from:@alice"));
            }
            let user = lower.strip_prefix('@').unwrap_or(&lower);
            filters.from.push(checked_name(user).ok_or_else(|| invalid("from", "expected @username"))?);
        }
        "has" => {
            let has = match lower.as_str() {
                "" => return Err(QueryError::MissingValue("has", "has:link")),
                "link" => Has::Link,
                "file" => Has::File,
                "mention" => Has::Mention,
                "reaction" => Has::Reaction,
                _ => return Err(invalid("has", "expected link, file, mention or reaction")),
            };
            filters.has.insert(has);
        }
        "is" => {
            let is = match lower.as_str() {
                "" => return Err(QueryError::MissingValue("is", "is:thread")),
                "thread" => Is::Thread,
                "pinned" => Is::Pinned,
                _ => return Err(invalid("is", "expected thread or pinned")),
            };
            filters.is.insert(is);
        }
        "before" | "after" | "on" => {
            let operator = match name.as_str() {
                "before" => "before",
                "after" => "after",
                _ => "on",
            };
            if value.is_empty() {
                return Err(QueryError::MissingValue(operator, "before:2026-11-20"));
            }
            let date: Date = value.parse().map_err(|_| invalid(operator, "expected a date as YYYY-MM-DD"))?;
            let next = date.tomorrow().map_err(|_| invalid(operator, "expected a date as YYYY-MM-DD"))?;
            let start = start_of(date, tz).ok_or_else(|| invalid(operator, "a date this time zone cannot place"))?;
            let end = start_of(next, tz).ok_or_else(|| invalid(operator, "a date this time zone cannot place"))?;
            let (after, before) = match operator {
                "before" => (None, Some(start)),
                "after" => (Some(end), None),
                _ => (Some(start), Some(end)),
            };
            if let Some(after) = after {
                filters.after = Some(filters.after.map_or(after, |known| known.max(after)));
            }
            if let Some(before) = before {
                filters.before = Some(filters.before.map_or(before, |known| known.min(before)));
            }
        }
        _ => return Err(QueryError::UnknownOperator(name)),
    }
    Ok(())
}

/// A user or channel name as written in an operator: the characters names are made of.
fn checked_name(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.chars().count() <= 80
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'));
    ok.then(|| name.to_owned())
}

/// The first instant of `date` in `tz`.
fn start_of(date: Date, tz: &TimeZone) -> Option<OffsetDateTime> {
    let zoned = date.to_zoned_datetime(tz.clone()).ok()?;
    OffsetDateTime::from_unix_timestamp_nanos(zoned.timestamp().as_nanosecond()).ok()
}

/// The time zone named `name` (IANA, e.g. `Europe/Paris`), or UTC when none is given.
pub fn time_zone(name: Option<&str>) -> Result<TimeZone, String> {
    match name {
        None | Some("") => Ok(TimeZone::UTC),
        Some(name) => TimeZone::get(name)
            .map_err(|_| format!("tz: unknown time zone {name:?}; give an IANA name such as Europe/Paris")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng as _, SeedableRng as _};

    fn word(text: &str) -> Term {
        Term::Word { text: text.into(), prefix: false }
    }

    fn prefix(text: &str) -> Term {
        Term::Word { text: text.into(), prefix: true }
    }

    fn utc(input: &str) -> Result<ParsedQuery, QueryError> {
        parse(input, &TimeZone::UTC)
    }

    #[test]
    fn words_phrases_negations_and_or_become_clauses() {
        let query = utc(r#"Deploy "Prod  DB" -staging -"dry run" api OR web "#).expect("parses");
        assert_eq!(
            query.clauses,
            [vec![word("deploy")], vec![Term::Phrase("prod db".into())], vec![word("api"), word("web")]]
        );
        assert_eq!(query.negated, [word("staging"), Term::Phrase("dry run".into())]);
    }

    #[test]
    fn the_last_word_typed_is_a_prefix_unless_a_space_follows() {
        assert_eq!(utc("deploy fail").expect("parses").clauses, [vec![word("deploy")], vec![prefix("fail")]]);
        assert_eq!(utc("deploy fail ").expect("parses").clauses, [vec![word("deploy")], vec![word("fail")]]);
        assert_eq!(utc("deploy* fail ").expect("parses").clauses, [vec![prefix("deploy")], vec![word("fail")]]);
        // A phrase, a negation or an operator last leaves the words as they are.
        assert_eq!(utc("deploy \"x y\"").expect("parses").clauses[0], [word("deploy")]);
        assert_eq!(utc("deploy -x").expect("parses").clauses[0], [word("deploy")]);
        assert_eq!(utc("deploy from:@bob").expect("parses").clauses[0], [word("deploy")]);
    }

    #[test]
    fn operators_fill_the_filters() {
        let query = utc("in:#Ops in:dev in:@bob from:@alice from:carol has:link has:file has:mention has:reaction is:thread is:pinned x ")
            .expect("parses");
        assert_eq!(query.filters.in_channels, ["ops", "dev"]);
        assert_eq!(query.filters.in_dms, ["bob"]);
        assert_eq!(query.filters.from, ["alice", "carol"]);
        assert_eq!(query.filters.has, [Has::Link, Has::File, Has::Mention, Has::Reaction].into());
        assert_eq!(query.filters.is, [Is::Thread, Is::Pinned].into());
        // URLs, times and a trailing colon are words.
        let query = utc("https://example.com 12:30 note: ").expect("parses");
        assert_eq!(query.clauses.len(), 3);
        assert!(query.filters.is_empty());
    }

    #[test]
    fn dates_are_days_in_the_clients_time_zone() {
        let paris = TimeZone::get("Europe/Paris").expect("the tz database");
        let query = parse("on:2026-11-20", &paris).expect("parses");
        // Midnight in Paris (UTC+1 in November) is 23:00 UTC the day before.
        assert_eq!(query.filters.after, Some(time::macros::datetime!(2026-11-19 23:00 UTC)));
        assert_eq!(query.filters.before, Some(time::macros::datetime!(2026-11-20 23:00 UTC)));
        let query = utc("after:2026-11-20 before:2026-12-01 before:2026-11-25").expect("parses");
        assert_eq!(query.filters.after, Some(time::macros::datetime!(2026-11-21 0:00 UTC)));
        assert_eq!(query.filters.before, Some(time::macros::datetime!(2026-11-25 0:00 UTC)));
        assert!(time_zone(Some("Mars/Olympus")).is_err());
        assert_eq!(time_zone(None).ok(), Some(TimeZone::UTC));
    }

    #[test]
    fn malformed_queries_are_refused_naming_the_problem() {
        let cases: &[(&str, QueryError)] = &[
            ("", QueryError::Empty),
            ("   ", QueryError::Empty),
            ("say \"hello", QueryError::UnbalancedQuote(5)),
            ("colour:red", QueryError::UnknownOperator("colour".into())),
            ("from:", QueryError::MissingValue("from", "from:@alice")),
            (
                "has:banana",
                QueryError::InvalidValue {
                    operator: "has",
                    value: "banana".into(),
                    expected: "expected link, file, mention or reaction",
                },
            ),
            (
                "is:old",
                QueryError::InvalidValue { operator: "is", value: "old".into(), expected: "expected thread or pinned" },
            ),
            (
                "before:2026-13-01",
                QueryError::InvalidValue {
                    operator: "before",
                    value: "2026-13-01".into(),
                    expected: "expected a date as YYYY-MM-DD",
                },
            ),
            (
                "from:@a!b",
                QueryError::InvalidValue { operator: "from", value: "@a!b".into(), expected: "expected @username" },
            ),
            ("OR deploy", QueryError::DanglingOr),
            ("deploy OR", QueryError::DanglingOr),
            ("a OR OR b", QueryError::DanglingOr),
            ("a OR from:@b", QueryError::DanglingOr),
            ("a OR -b", QueryError::NegatedOr("b".into())),
            ("-from:@bob x", QueryError::NegatedOperator("from:@bob".into())),
            ("-deploy", QueryError::OnlyNegations),
        ];
        for (input, expected) in cases {
            assert_eq!(utc(input).as_ref().err(), Some(expected), "{input:?}");
        }
        assert_eq!(utc(&"a ".repeat(17)).err(), Some(QueryError::TooManyTerms));
        assert_eq!(utc(&"a".repeat(501)).err(), Some(QueryError::TooLong));
        assert_eq!(utc("a\u{0}b").err(), Some(QueryError::ControlCharacter));
        assert_eq!(utc("a\u{1b}[31m").err(), Some(QueryError::ControlCharacter));
        assert_eq!(utc("a\tb\nc").map(|q| q.clauses.len()), Ok(3));
        // The messages name the problem.
        assert!(QueryError::UnbalancedQuote(5).to_string().contains("unbalanced quote"));
        assert!(QueryError::UnknownOperator("colour".into()).to_string().contains("unknown operator `colour:`"));
    }

    /// Writes a query back as text that parses to it (no trailing prefix ambiguity: a
    /// space ends the input).
    fn render(query: &ParsedQuery) -> String {
        let term = |term: &Term| match term {
            Term::Word { text, prefix: true } => format!("{text}*"),
            Term::Word { text, prefix: false } => text.clone(),
            Term::Phrase(text) => format!("\"{text}\""),
        };
        let mut parts: Vec<String> =
            query.clauses.iter().map(|clause| clause.iter().map(term).collect::<Vec<_>>().join(" OR ")).collect();
        parts.extend(query.negated.iter().map(|t| format!("-{}", term(t))));
        parts.extend(query.filters.from.iter().map(|u| format!("from:@{u}")));
        parts.join(" ") + " "
    }

    #[test]
    fn property_any_input_parses_or_is_refused_and_parsed_queries_round_trip() {
        const PIECES: &[&str] = &[
            "deploy",
            "DEPLOY",
            "東京",
            "ploy*",
            "\u{0}",
            "\n",
            "*",
            "\"",
            "\"a b\"",
            "-",
            "-x",
            "OR",
            "or",
            "in:#ops",
            "in:@bob",
            "from:@al",
            "has:link",
            "is:pinned",
            "on:2026-01-02",
            "foo:bar",
            "note:",
            "http://x.y/z",
            "<script>",
            "'",
            "\\",
            "%",
            "_",
            ":",
            "-\"q r\"",
            "a*b",
            "   ",
            "\t",
            "é",
            "😀",
        ];
        let mut rng = StdRng::seed_from_u64(16);
        for _ in 0..5_000 {
            let n = rng.random_range(0..8);
            let input: String = (0..n)
                .map(|_| {
                    let piece = PIECES[rng.random_range(0..PIECES.len())];
                    if rng.random_bool(0.5) { format!("{piece} ") } else { piece.to_owned() }
                })
                .collect();
            let Ok(query) = utc(&input) else { continue };
            for term in query.clauses.iter().flatten().chain(&query.negated) {
                assert!(!term.text().is_empty(), "{input:?} gave an empty term");
                assert!(!term.text().contains('"'), "{input:?} kept a quote in {term:?}");
            }
            if query.filters.in_channels.is_empty()
                && query.filters.in_dms.is_empty()
                && query.filters.has.is_empty()
                && query.filters.is.is_empty()
                && query.filters.after.is_none()
            {
                let again =
                    utc(&render(&query)).unwrap_or_else(|err| panic!("{input:?} → {:?}: {err}", render(&query)));
                assert_eq!(again, query, "{input:?} does not round-trip through {:?}", render(&query));
            }
        }
    }
}
