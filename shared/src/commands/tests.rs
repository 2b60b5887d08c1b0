//! The command parser: a table of lines and what they mean or why they are refused, and
//! generated commands that must read back as themselves.

use super::*;

fn ok(line: &str) -> Command {
    parse(line).unwrap_or_else(|err| panic!("{line}: {err}"))
}

fn usage_problem(line: &str) -> String {
    match parse(line) {
        Err(ParseError::Usage { problem, .. }) => problem,
        other => panic!("{line}: expected a usage error, got {other:?}"),
    }
}

#[test]
fn lines_mean_what_a_user_expects() {
    let hour = Duration::from_secs(3600);
    let table = [
        ("/join #Ops", Command::Join { channel: "ops".into() }),
        ("  /leave  ", Command::Leave),
        ("/topic", Command::Topic { topic: None }),
        ("/topic  Deploys: *Fridays* only  ", Command::Topic { topic: Some("Deploys: *Fridays* only".into()) }),
        ("/msg @Bob  hi   there ", Command::Msg { user: "bob".into(), text: "hi   there".into() }),
        ("/me waves", Command::Me { text: "waves".into() }),
        ("/invite", Command::Invite { max_uses: None, expires_in: None }),
        ("/invite 5 1d", Command::Invite { max_uses: Some(5), expires_in: Some(Duration::from_secs(86_400)) }),
        ("/invite 2h", Command::Invite { max_uses: None, expires_in: Some(2 * hour) }),
        ("/shrug", Command::Shrug { text: String::new() }),
        ("/help /ban", Command::Help { command: Some("ban".into()) }),
        ("/ban @eve", Command::Ban { user: "eve".into(), duration: None, reason: None }),
        (
            "/ban @eve 1h30m spam, \"again\"",
            Command::Ban {
                user: "eve".into(),
                duration: Some(Duration::from_secs(5400)),
                reason: Some("spam, \"again\"".into()),
            },
        ),
        ("/timeout @eve 2h", Command::Mute { user: "eve".into(), duration: Some(2 * hour), reason: None }),
        ("/kick @eve off topic", Command::Kick { user: "eve".into(), reason: Some("off topic".into()) }),
        ("/role @bob ADMIN", Command::Role { user: "bob".into(), role: Role::Admin }),
        ("/purge", Command::Purge { count: 10 }),
        ("/purge 25", Command::Purge { count: 25 }),
        ("/slowmode off", Command::Slowmode { seconds: None }),
        ("/slowmode 30", Command::Slowmode { seconds: Some(30) }),
        ("/slowmode 2m", Command::Slowmode { seconds: Some(120) }),
        (
            "/token create \"ci bot\" read write",
            Command::TokenCreate { name: "ci bot".into(), scopes: vec!["read".into(), "write".into()] },
        ),
        ("/token create 'it\\'s' read", Command::TokenCreate { name: "it's".into(), scopes: vec!["read".into()] }),
        (
            "/webhook create #alerts Grafana alerts",
            Command::WebhookCreate { channel: "alerts".into(), name: "Grafana alerts".into() },
        ),
        ("/WEBHOOK list", Command::WebhookList),
    ];
    for (line, expected) in table {
        assert_eq!(ok(line), expected, "{line}");
    }
}

#[test]
fn refusals_say_what_is_wrong_and_how_the_command_is_used() {
    assert_eq!(parse("hello"), Err(ParseError::NotACommand));
    assert_eq!(parse("/token create \"unfinished"), Err(ParseError::UnbalancedQuote));
    assert_eq!(usage_problem("/join ops"), "`ops` is not a #channel");
    assert_eq!(usage_problem("/msg @bob"), "the message is missing");
    assert_eq!(usage_problem("/ban bob"), "`bob` is not a @user");
    assert_eq!(usage_problem("/role @bob owner"), "`owner` is not a role (admin or member)");
    assert_eq!(usage_problem("/purge 500"), "at most 100 messages at once");
    assert_eq!(usage_problem("/purge -3"), "the count must be a positive whole number, not `-3`");
    assert_eq!(usage_problem("/invite 3 soon"), "`soon` is not a duration like 1d");
    assert_eq!(usage_problem("/slowmode fast"), "`fast` is not a number of seconds up to 6 h, or off");
    assert_eq!(usage_problem("/leave now"), "unexpected `now`");
    let message = parse("/unban").expect_err("no user").to_string();
    assert_eq!(message, "name someone with @user; usage: /unban @user");
}

#[test]
fn an_unknown_command_suggests_the_nearest_ones() {
    let Err(ParseError::Unknown { name, suggestions }) = parse("/bna @x") else { panic!("unknown") };
    assert_eq!(name, "bna");
    assert_eq!(suggestions, ["ban"]);
    assert_eq!(nearest("un"), ["unban", "unfreeze", "unmute"], "prefixes first");
    assert!(parse("/zzzzzz").expect_err("unknown").to_string().ends_with("/help lists the commands"));
    assert!(parse("/tpoic x").expect_err("unknown").to_string().contains("did you mean /topic?"));
}

#[test]
fn durations_read_units_and_sums_and_refuse_the_rest() {
    for (text, secs) in [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86_400), ("1w", 604_800), ("1h30m", 5400)] {
        assert_eq!(parse_duration(text), Some(Duration::from_secs(secs)), "{text}");
        assert_eq!(parse_duration(&format_duration(Duration::from_secs(secs))), Some(Duration::from_secs(secs)));
    }
    for text in ["", "10", "m", "0m", "1y", "2h-", "99999999999999999999d", "53w"] {
        assert_eq!(parse_duration(text), None, "{text}");
    }
}

/// A small deterministic generator (no extra dependency): xorshift.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[usize::try_from(self.below(from.len() as u64)).unwrap_or(0)]
    }

    fn name(&mut self) -> String {
        self.pick(&["bob", "alice", "ops-team", "a.b_c", "x1"]).to_owned()
    }

    /// Free text: words that are not durations, with inner spaces and quotes.
    fn text(&mut self) -> String {
        let words = ["hello", "spam", "\"quoted\"", "it's", "*bold*", "#ops", "@here", "¯\\_(ツ)_/¯", "東京"];
        let count = 1 + self.below(4);
        (0..count).map(|_| self.pick(&words)).collect::<Vec<_>>().join(if self.below(2) == 0 { " " } else { "  " })
    }

    fn duration(&mut self) -> Option<Duration> {
        (self.below(2) == 0).then(|| Duration::from_secs(1 + self.below(MAX_DURATION.as_secs())))
    }

    fn maybe_text(&mut self) -> Option<String> {
        (self.below(2) == 0).then(|| self.text())
    }

    fn command(&mut self) -> Command {
        match self.below(23) {
            0 => Command::Join { channel: self.name() },
            1 => Command::Leave,
            2 => Command::Topic { topic: self.maybe_text() },
            3 => Command::Msg { user: self.name(), text: self.text() },
            4 => Command::Me { text: self.text() },
            5 => Command::Invite {
                max_uses: (self.below(2) == 0).then(|| 1 + u32::try_from(self.below(1000)).unwrap_or(0)),
                expires_in: self.duration(),
            },
            6 => Command::Shrug { text: self.maybe_text().unwrap_or_default() },
            7 => Command::Help { command: (self.below(2) == 0).then(|| self.pick(&["ban", "topic"]).to_owned()) },
            8 => Command::Ban { user: self.name(), duration: self.duration(), reason: self.maybe_text() },
            9 => Command::Unban { user: self.name() },
            10 => Command::Kick { user: self.name(), reason: self.maybe_text() },
            11 => Command::Mute { user: self.name(), duration: self.duration(), reason: self.maybe_text() },
            12 => Command::Unmute { user: self.name() },
            13 => {
                Command::Role { user: self.name(), role: if self.below(2) == 0 { Role::Admin } else { Role::Member } }
            }
            14 => Command::Purge { count: 1 + u32::try_from(self.below(100)).unwrap_or(0) },
            15 => Command::Slowmode {
                seconds: (self.below(2) == 0).then(|| 1 + u32::try_from(self.below(6 * 3600)).unwrap_or(0)),
            },
            16 => Command::Freeze,
            17 => Command::Unfreeze,
            18 => Command::TokenCreate {
                name: self.text(),
                scopes: (0..self.below(3)).map(|_| self.pick(&["read", "write"]).to_owned()).collect(),
            },
            19 => Command::TokenRevoke { id: self.pick(&["01a2", "x y", "q\"uote"]).to_owned() },
            20 => Command::WebhookCreate { channel: self.name(), name: self.text() },
            21 => Command::WebhookList,
            _ => Command::WebhookRevoke { id: self.pick(&["01a2", "x y"]).to_owned() },
        }
    }
}

#[test]
fn every_generated_command_reads_back_as_itself() {
    let mut generate = Gen(0x9E37_79B9_7F4A_7C15);
    for _ in 0..5_000 {
        let command = generate.command();
        let line = command.to_string();
        assert_eq!(parse(&line), Ok(command), "{line}");
    }
}

#[test]
fn arbitrary_lines_never_panic_and_every_refusal_names_a_usage_or_the_problem() {
    let mut generate = Gen(0xD1B5_4A32_D192_ED03);
    let pieces = ["/", "ban", " ", "@", "#", "\"", "'", "\\", "1h", "x", "東", "\t", "off", "create", "-"];
    for _ in 0..20_000 {
        let line: String = (0..generate.below(12)).map(|_| generate.pick(&pieces)).collect();
        if let Err(err) = parse(&line) {
            assert!(!err.to_string().is_empty(), "{line:?}");
        }
    }
}
