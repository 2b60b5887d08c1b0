//! GitHub payloads on an incoming webhook's URL (a request carrying `X-GitHub-Event`):
//! `ping` is answered and posts nothing; `push`, `pull_request` (opened, closed, merged,
//! reopened) and `workflow_run` (completed) become one readable Markdown message; anything
//! else is refused as unsupported, never silently accepted. Every string of the payload is
//! untrusted: Markdown is escaped, `@` and `#` are defused so payload text never pings or
//! links a channel, links are kept only when they are plain http(s) URLs, and each text is
//! cut to a line of bounded length. Pure: no I/O, so every shape is unit-tested here.

use serde_json::Value;

/// How many commits of a push are listed.
const COMMITS_SHOWN: usize = 5;
/// The longest title (commit, pull request, workflow) shown, in characters.
const TITLE_MAX_CHARS: usize = 120;
/// The longest name (branch, user, repository) shown, in characters.
const NAME_MAX_CHARS: usize = 100;
/// The longest link kept, in characters.
const URL_MAX_CHARS: usize = 2048;

/// What a GitHub delivery asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum GithubPost {
    /// `ping`: answered, nothing posted.
    Ping,
    /// A message to post.
    Message(String),
}

/// Why a GitHub delivery was refused, as a sentence for the integration's author.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The body is not the JSON this event has.
    Malformed(String),
    /// An event (or an action of one) this server does not render.
    Unsupported(String),
}

/// Reads the payload of GitHub event `event`: JSON, or a form with the JSON in `payload=`
/// (GitHub's `application/x-www-form-urlencoded` content type).
pub fn parse(event: &str, content_type: Option<&str>, body: &[u8]) -> Result<GithubPost, Refused> {
    let is_form = content_type.is_some_and(|value| value.trim_start().starts_with("application/x-www-form-urlencoded"));
    let json = if is_form {
        oauth2::url::form_urlencoded::parse(body)
            .find(|(name, _)| name == "payload")
            .map(|(_, value)| value.into_owned())
            .ok_or_else(|| Refused::Malformed("a form-encoded GitHub delivery needs a `payload` field".into()))?
    } else {
        String::from_utf8(body.to_vec()).map_err(|_| Refused::Malformed("the body is not UTF-8".into()))?
    };
    let payload: Value = serde_json::from_str(&json)
        .map_err(|err| Refused::Malformed(format!("the body of a GitHub `{event}` event is not JSON ({err})")))?;
    if !payload.is_object() {
        return Err(Refused::Malformed(format!("the body of a GitHub `{event}` event is not a JSON object")));
    }
    match event {
        "ping" => Ok(GithubPost::Ping),
        "push" => push(&payload).map(GithubPost::Message),
        "pull_request" => pull_request(&payload).map(GithubPost::Message),
        "workflow_run" => workflow_run(&payload).map(GithubPost::Message),
        _ => Err(Refused::Unsupported(format!(
            "GitHub `{}` events are not rendered here; send `push`, `pull_request` or `workflow_run` (and `ping`)",
            shown(event, NAME_MAX_CHARS)
        ))),
    }
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str).map(str::trim).filter(|text| !text.is_empty())
}

fn required<'a>(value: &'a Value, pointer: &str, event: &str) -> Result<&'a str, Refused> {
    str_at(value, pointer).ok_or_else(|| {
        Refused::Malformed(format!(
            "a GitHub `{event}` event needs `{}`",
            pointer.trim_start_matches('/').replace('/', ".")
        ))
    })
}

/// At most `max` characters of the first line of `text`, with `…` when cut.
fn shown(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    if line.chars().count() > max {
        let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        line.to_owned()
    }
}

/// Untrusted text as Markdown that renders as that text: ASCII punctuation with a meaning
/// in Markdown is backslash-escaped, and a zero-width space after `@` and `#` keeps the
/// text from mentioning anyone or any channel. One line, cut to `max` characters.
fn text(raw: &str, max: usize) -> String {
    let line = shown(raw, max);
    let mut out = String::with_capacity(line.len() + 8);
    for c in line.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '~' | '|' | '!' | '&' | '(' | ')' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '@' | '#' => {
                out.push(c);
                out.push('\u{200B}');
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A payload URL fit to be a link target: http(s), printable ASCII without the characters
/// that would end or bend a Markdown link.
fn url(raw: Option<&str>) -> Option<&str> {
    raw.filter(|url| {
        (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() <= URL_MAX_CHARS
            && url.chars().all(|c| c.is_ascii_graphic() && !"<>()[]\\`\"'".contains(c))
    })
}

/// `label` (already Markdown) linked to `url` when it is fit, else plain.
fn link(label: &str, raw_url: Option<&str>) -> String {
    match url(raw_url) {
        Some(url) => format!("[{label}]({url})"),
        None => label.to_owned(),
    }
}

/// The repository, linked: `owner/name`.
fn repository(payload: &Value, event: &str) -> Result<String, Refused> {
    let name = required(payload, "/repository/full_name", event)?;
    Ok(link(&text(name, NAME_MAX_CHARS), str_at(payload, "/repository/html_url")))
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// `push`: who pushed how many commits to which branch (or tag), then the first commits'
/// short ids, linked, with their titles.
fn push(payload: &Value) -> Result<String, Refused> {
    let repo = repository(payload, "push")?;
    let reference = required(payload, "/ref", "push")?;
    let pusher = str_at(payload, "/pusher/name")
        .or_else(|| str_at(payload, "/sender/login"))
        .ok_or_else(|| Refused::Malformed("a GitHub `push` event needs `pusher.name`".into()))?;
    let pusher = text(pusher, NAME_MAX_CHARS);
    let (kind, name) = match (reference.strip_prefix("refs/heads/"), reference.strip_prefix("refs/tags/")) {
        (Some(branch), _) => ("branch", branch),
        (None, Some(tag)) => ("tag", tag),
        (None, None) => ("ref", reference),
    };
    let name = format!("**{}**", text(name, NAME_MAX_CHARS));
    let flag = |key: &str| payload.get(key).and_then(Value::as_bool).unwrap_or(false);
    if flag("deleted") {
        return Ok(format!("{repo}: {pusher} deleted {kind} {name}"));
    }
    let commits = payload.get("commits").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let compare = str_at(payload, "/compare");
    let mut head = if commits.is_empty() {
        let verb = if flag("created") { "created" } else { "pushed to" };
        format!("{repo}: {pusher} {verb} {kind} {name}")
    } else {
        let forced = if flag("forced") { "force-" } else { "" };
        let count = link(&plural(commits.len(), "commit", "commits"), compare);
        format!("{repo}: {pusher} {forced}pushed {count} to {kind} {name}")
    };
    for commit in commits.iter().take(COMMITS_SHOWN) {
        let id = str_at(commit, "/id").unwrap_or("");
        let short: String = id.chars().filter(char::is_ascii_hexdigit).take(7).collect();
        let title = text(str_at(commit, "/message").unwrap_or("(no message)"), TITLE_MAX_CHARS);
        let id = if short.is_empty() {
            String::new()
        } else {
            format!("{} ", link(&format!("`{short}`"), str_at(commit, "/url")))
        };
        head.push_str(&format!("\n- {id}{title}"));
    }
    if commits.len() > COMMITS_SHOWN {
        head.push_str(&format!("\n- … and {} more", commits.len() - COMMITS_SHOWN));
    }
    Ok(head)
}

/// `pull_request`: opened, closed, merged (a closed one with `merged`) or reopened, with
/// its number, title, author and link. Other actions are refused as unsupported.
fn pull_request(payload: &Value) -> Result<String, Refused> {
    let action = required(payload, "/action", "pull_request")?;
    let merged = payload.pointer("/pull_request/merged").and_then(Value::as_bool).unwrap_or(false);
    let verb = match action {
        "opened" => "opened",
        "reopened" => "reopened",
        "closed" if merged => "merged",
        "closed" => "closed",
        _ => {
            return Err(Refused::Unsupported(format!(
                "GitHub `pull_request` events are rendered when opened, closed or reopened, not `{}`",
                shown(action, NAME_MAX_CHARS)
            )));
        }
    };
    let repo = repository(payload, "pull_request")?;
    let number = payload
        .pointer("/pull_request/number")
        .or_else(|| payload.get("number"))
        .and_then(Value::as_u64)
        .ok_or_else(|| Refused::Malformed("a GitHub `pull_request` event needs `pull_request.number`".into()))?;
    let title = text(required(payload, "/pull_request/title", "pull_request")?, TITLE_MAX_CHARS);
    let author = text(required(payload, "/pull_request/user/login", "pull_request")?, NAME_MAX_CHARS);
    let actor = str_at(payload, "/sender/login").map(|login| text(login, NAME_MAX_CHARS));
    let by = match actor {
        Some(actor) if actor != author => format!(" by {actor}"),
        _ => String::new(),
    };
    let pr = link(
        &format!("{} {title}", text(&format!("#{number}"), NAME_MAX_CHARS)),
        str_at(payload, "/pull_request/html_url"),
    );
    Ok(format!("{repo}: pull request **{verb}**{by}: {pr} (author: {author})"))
}

/// `workflow_run` completed: the workflow's name, its conclusion, the branch and the link.
/// Requested and in-progress runs are refused as unsupported.
fn workflow_run(payload: &Value) -> Result<String, Refused> {
    let action = required(payload, "/action", "workflow_run")?;
    if action != "completed" {
        return Err(Refused::Unsupported(format!(
            "GitHub `workflow_run` events are rendered when completed, not `{}`",
            shown(action, NAME_MAX_CHARS)
        )));
    }
    let repo = repository(payload, "workflow_run")?;
    let name = text(required(payload, "/workflow_run/name", "workflow_run")?, TITLE_MAX_CHARS);
    let conclusion = str_at(payload, "/workflow_run/conclusion").unwrap_or("unknown");
    let mark = match conclusion {
        "success" => "✅",
        "failure" | "timed_out" | "startup_failure" => "❌",
        "cancelled" => "⏹",
        _ => "⚪",
    };
    let conclusion = text(conclusion, NAME_MAX_CHARS);
    let run = match payload.pointer("/workflow_run/run_number").and_then(Value::as_u64) {
        Some(number) => format!("{name} {}", text(&format!("#{number}"), NAME_MAX_CHARS)),
        None => name,
    };
    let run = link(&run, str_at(payload, "/workflow_run/html_url"));
    let branch = str_at(payload, "/workflow_run/head_branch")
        .map(|branch| format!(" on **{}**", text(branch, NAME_MAX_CHARS)))
        .unwrap_or_default();
    Ok(format!("{mark} {repo}: workflow {run}{branch}: **{conclusion}**"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(event: &str, body: &Value) -> Result<GithubPost, Refused> {
        parse(event, Some("application/json"), body.to_string().as_bytes())
    }

    fn message(event: &str, body: &Value) -> String {
        match json(event, body) {
            Ok(GithubPost::Message(text)) => text,
            other => panic!("{event}: {other:?}"),
        }
    }

    const REPO: &str = r#""repository": {"full_name": "octo/app", "html_url": "https://github.com/octo/app"}"#;

    #[test]
    fn untrusted_text_cannot_format_mention_or_break_lines() {
        assert_eq!(text("**bold** [x](javascript:1) <b> `c`", 200), r"\*\*bold\*\* \[x\]\(javascript:1\) \<b\> \`c\`");
        assert_eq!(text("ping @alice in #ops", 200), "ping @\u{200B}alice in #\u{200B}ops");
        assert!(mentions_nothing(&text("@here @channel @alice #dev", 200)), "no mention survives");
        assert_eq!(text("first line\nsecond", 200), "first line");
        assert_eq!(text("abcdef", 4), "abc…");
    }

    fn mentions_nothing(body: &str) -> bool {
        let found = ajet_shared::mentions::parse(body);
        found.users.is_empty() && found.channels.is_empty() && !found.here && !found.channel && !found.everyone
    }

    #[test]
    fn links_are_kept_only_when_plain_http() {
        assert_eq!(link("x", Some("https://github.com/a")), "[x](https://github.com/a)");
        for bad in ["javascript:alert(1)", "https://a/b) [y](https://evil", "https://a b", "data:text/html,x"] {
            assert_eq!(link("x", Some(bad)), "x", "{bad}");
        }
    }

    #[test]
    fn a_push_lists_branch_pusher_count_and_the_first_commits() {
        let commits: Vec<Value> = (1..=7)
            .map(|i| {
                serde_json::json!({"id": format!("{i}abcdef0123456789"), "message": format!("Fix *thing* {i}\n\nbody"),
                    "url": format!("https://github.com/octo/app/commit/{i}abcdef")})
            })
            .collect();
        let body: Value = serde_json::from_str(&format!(
            r#"{{"ref": "refs/heads/main", "compare": "https://github.com/octo/app/compare/a...b",
                "pusher": {{"name": "mona"}}, {REPO}, "commits": {}}}"#,
            Value::from(commits)
        ))
        .expect("json");
        let text = message("push", &body);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "[octo/app](https://github.com/octo/app): mona pushed [7 commits](https://github.com/octo/app/compare/a...b) to branch **main**"
        );
        assert_eq!(lines[1], r"- [`1abcdef`](https://github.com/octo/app/commit/1abcdef) Fix \*thing\* 1");
        assert_eq!(lines.len(), 7, "five commits and a remainder: {text}");
        assert_eq!(lines[6], "- … and 2 more");
    }

    #[test]
    fn pull_requests_render_opened_merged_closed_and_reopened_and_refuse_other_actions() {
        let pr = |action: &str, merged: bool| {
            serde_json::from_str::<Value>(&format!(
                r#"{{"action": "{action}", "number": 5, {REPO}, "sender": {{"login": "hubot"}},
                    "pull_request": {{"number": 5, "title": "Add @here support", "merged": {merged},
                        "html_url": "https://github.com/octo/app/pull/5", "user": {{"login": "mona"}}}}}}"#
            ))
            .expect("json")
        };
        let link = "[#\u{200B}5 Add @\u{200B}here support](https://github.com/octo/app/pull/5)";
        assert_eq!(
            message("pull_request", &pr("opened", false)),
            format!("[octo/app](https://github.com/octo/app): pull request **opened** by hubot: {link} (author: mona)")
        );
        assert!(message("pull_request", &pr("closed", true)).contains("**merged**"));
        assert!(message("pull_request", &pr("closed", false)).contains("**closed**"));
        assert!(message("pull_request", &pr("reopened", false)).contains("**reopened**"));
        assert!(
            matches!(json("pull_request", &pr("labeled", false)), Err(Refused::Unsupported(m)) if m.contains("labeled"))
        );
    }

    #[test]
    fn a_completed_workflow_run_shows_its_conclusion_and_others_are_refused() {
        let run = |action: &str| {
            serde_json::from_str::<Value>(&format!(
                r#"{{"action": "{action}", {REPO}, "workflow_run": {{"name": "CI", "run_number": 42,
                    "conclusion": "failure", "head_branch": "main", "html_url": "https://github.com/octo/app/actions/runs/1"}}}}"#
            ))
            .expect("json")
        };
        assert_eq!(
            message("workflow_run", &run("completed")),
            "❌ [octo/app](https://github.com/octo/app): workflow [CI #\u{200B}42](https://github.com/octo/app/actions/runs/1) on **main**: **failure**"
        );
        assert!(matches!(json("workflow_run", &run("requested")), Err(Refused::Unsupported(_))));
    }

    #[test]
    fn ping_posts_nothing_and_unknown_events_and_bad_bodies_are_refused() {
        assert_eq!(json("ping", &serde_json::json!({"zen": "Keep it logically awesome."})), Ok(GithubPost::Ping));
        assert!(matches!(json("issues", &serde_json::json!({})), Err(Refused::Unsupported(m)) if m.contains("issues")));
        assert!(matches!(parse("push", None, b"{not json"), Err(Refused::Malformed(_))));
        assert!(
            matches!(json("push", &serde_json::json!({"ref": "refs/heads/x"})), Err(Refused::Malformed(m)) if m.contains("repository.full_name"))
        );
        let form = parse("ping", Some("application/x-www-form-urlencoded"), b"payload=%7B%22zen%22%3A%22x%22%7D");
        assert_eq!(form, Ok(GithubPost::Ping));
    }
}
