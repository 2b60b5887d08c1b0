//! Slack-compatible incoming-webhook payloads: JSON (`text`, `username`, `icon_url`,
//! `attachments`, `blocks`) or a form with the JSON in `payload=`, rendered to one Markdown
//! body. Pure: no I/O, so every shape is unit-tested here.

use serde::Deserialize;
use serde_json::Value;

/// What a payload asks to post.
#[derive(Debug, PartialEq, Eq)]
pub struct SlackPost {
    pub body_md: String,
    pub username: Option<String>,
    pub icon_url: Option<String>,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    icon_url: Option<String>,
    #[serde(default)]
    attachments: Vec<Value>,
    #[serde(default)]
    blocks: Vec<Value>,
}

/// Why a payload was refused, as a sentence for the integration's author.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub String);

/// Reads a payload of `content_type`: form-encoded (`payload=<json>`) or JSON.
pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<SlackPost, Malformed> {
    let is_form = content_type.is_some_and(|value| value.trim_start().starts_with("application/x-www-form-urlencoded"));
    let json = if is_form {
        oauth2::url::form_urlencoded::parse(body)
            .find(|(name, _)| name == "payload")
            .map(|(_, value)| value.into_owned())
            .ok_or_else(|| Malformed("a form-encoded post needs a `payload` field holding the JSON message".into()))?
    } else {
        String::from_utf8(body.to_vec()).map_err(|_| Malformed("the body is not UTF-8".into()))?
    };
    let payload: Payload = serde_json::from_str(&json)
        .map_err(|err| Malformed(format!("the body is not a Slack-style JSON message ({err})")))?;
    let mut parts = Vec::new();
    if let Some(text) = payload.text.as_deref().filter(|text| !text.trim().is_empty()) {
        parts.push(links(text));
    }
    parts.extend(payload.blocks.iter().filter_map(block));
    parts.extend(payload.attachments.iter().filter_map(attachment));
    if parts.is_empty() {
        return Err(Malformed("nothing to post: give `text`, `blocks` or `attachments` with some text".into()));
    }
    Ok(SlackPost {
        body_md: parts.join("\n\n"),
        username: payload.username.map(|name| name.trim().to_owned()).filter(|name| !name.is_empty()),
        icon_url: payload.icon_url.map(|url| url.trim().to_owned()).filter(|url| !url.is_empty()),
    })
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str).map(str::trim).filter(|text| !text.is_empty())
}

/// Slack's `<url|label>` and `<url>` links as Markdown; mentions such as `<@U123>` stay.
fn links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        let (url, label) = inner.split_once('|').unwrap_or((inner, ""));
        if url.starts_with("http://") || url.starts_with("https://") || url.starts_with("mailto:") {
            if label.is_empty() {
                out.push_str(url);
            } else {
                out.push_str(&format!("[{label}]({url})"));
            }
        } else {
            out.push('<');
            out.push_str(inner);
            out.push('>');
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// One Block Kit block as Markdown (section, header, context, divider; others skipped).
fn block(block: &Value) -> Option<String> {
    match block.get("type").and_then(Value::as_str)? {
        "header" => str_at(block, "/text/text").map(|text| format!("**{text}**")),
        "section" => {
            let mut lines: Vec<String> = str_at(block, "/text/text").map(links).into_iter().collect();
            if let Some(fields) = block.get("fields").and_then(Value::as_array) {
                lines.extend(fields.iter().filter_map(|field| str_at(field, "/text")).map(links));
            }
            (!lines.is_empty()).then(|| lines.join("\n"))
        }
        "context" => {
            let texts: Vec<String> = block
                .get("elements")
                .and_then(Value::as_array)?
                .iter()
                .filter_map(|element| str_at(element, "/text"))
                .map(links)
                .collect();
            (!texts.is_empty()).then(|| format!("_{}_", texts.join(" · ")))
        }
        "divider" => Some("---".into()),
        _ => None,
    }
}

/// One legacy attachment as Markdown: pretext, linked title, text, fields, footer; the
/// `fallback` only when nothing else is there.
fn attachment(attachment: &Value) -> Option<String> {
    let mut lines = Vec::new();
    if let Some(pretext) = str_at(attachment, "/pretext") {
        lines.push(links(pretext));
    }
    match (str_at(attachment, "/title"), str_at(attachment, "/title_link")) {
        (Some(title), Some(link)) => lines.push(format!("**[{title}]({link})**")),
        (Some(title), None) => lines.push(format!("**{title}**")),
        _ => {}
    }
    if let Some(text) = str_at(attachment, "/text") {
        lines.push(links(text));
    }
    if let Some(fields) = attachment.get("fields").and_then(Value::as_array) {
        for field in fields {
            match (str_at(field, "/title"), str_at(field, "/value")) {
                (Some(title), Some(value)) => lines.push(format!("**{title}**: {}", links(value))),
                (None, Some(value)) => lines.push(links(value)),
                (Some(title), None) => lines.push(format!("**{title}**")),
                (None, None) => {}
            }
        }
    }
    if let Some(footer) = str_at(attachment, "/footer") {
        lines.push(format!("_{}_", links(footer)));
    }
    if lines.is_empty()
        && let Some(fallback) = str_at(attachment, "/fallback")
    {
        lines.push(links(fallback));
    }
    if lines.is_empty() {
        return None;
    }
    Some(lines.iter().map(|line| format!("> {}", line.replace('\n', "\n> "))).collect::<Vec<_>>().join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(body: &str) -> Result<SlackPost, Malformed> {
        parse(Some("application/json"), body.as_bytes())
    }

    #[test]
    fn plain_text_with_overrides_is_taken_as_is() {
        let post = json(r#"{"text":"build *green*","username":" CI ","icon_url":"https://x/i.png"}"#).expect("valid");
        assert_eq!(post.body_md, "build *green*");
        assert_eq!(post.username.as_deref(), Some("CI"));
        assert_eq!(post.icon_url.as_deref(), Some("https://x/i.png"));
    }

    #[test]
    fn slack_links_become_markdown_links_and_mentions_stay() {
        let post = json(r#"{"text":"see <https://ci/1|build 1> or <https://ci> <@U1> a < b"}"#).expect("valid");
        assert_eq!(post.body_md, "see [build 1](https://ci/1) or https://ci <@U1> a < b");
    }

    #[test]
    fn form_payloads_carry_the_json_in_payload() {
        let post =
            parse(Some("application/x-www-form-urlencoded"), b"payload=%7B%22text%22%3A%22hi%22%7D").expect("valid");
        assert_eq!(post.body_md, "hi");
        let err = parse(Some("application/x-www-form-urlencoded"), b"text=hi").expect_err("no payload");
        assert!(err.0.contains("payload"), "{err:?}");
    }

    #[test]
    fn blocks_and_attachments_render_after_the_text() {
        let post = json(
            r#"{"text":"Deploy","blocks":[{"type":"header","text":{"type":"plain_text","text":"Release 1.2"}},
                {"type":"section","text":{"type":"mrkdwn","text":"all good"},"fields":[{"type":"mrkdwn","text":"*env* prod"}]},
                {"type":"divider"},{"type":"context","elements":[{"type":"mrkdwn","text":"by bot"}]},{"type":"image"}],
              "attachments":[{"title":"Run 7","title_link":"https://ci/7","text":"passed","fields":[{"title":"Time","value":"3m"}]},
                {"fallback":"only fallback"},{"color":"good"}]}"#,
        )
        .expect("valid");
        assert_eq!(
            post.body_md,
            "Deploy\n\n**Release 1.2**\n\nall good\n*env* prod\n\n---\n\n_by bot_\n\n\
             > **[Run 7](https://ci/7)**\n> passed\n> **Time**: 3m\n\n> only fallback"
        );
    }

    #[test]
    fn malformed_payloads_say_what_is_wrong() {
        for (body, needle) in [
            ("not json", "not a Slack-style JSON message"),
            (r#"{"text": 5}"#, "not a Slack-style JSON message"),
            (r#"{"text":"  "}"#, "nothing to post"),
            ("{}", "nothing to post"),
        ] {
            let err = json(body).expect_err(body);
            assert!(err.0.contains(needle), "{body}: {err:?}");
        }
    }
}
