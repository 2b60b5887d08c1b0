//! Communities, channels and messages: `communities`, `channels`, `send`, `dm`, `read`,
//! `tail`, `search`, `upload`, `notifications`, `react`, `edit`, `delete` and `cmd`.

use std::collections::{HashMap, HashSet};

use ajet_shared::api::wire::{
    Attachment, CreateMessageRequest, HistoryQuery, Message, NotificationQuery, ReadNotificationsRequest, SearchQuery,
    SearchSort,
};
use ajet_shared::domain::ids::{ChannelId, MessageId};
use ajet_shared::events::{EventMessage, EventPayload};
use serde_json::json;

use crate::args::{ChatCommand, ReadArgs, SendArgs, SortArg};
use crate::commands::text_or_stdin;
use crate::escape;
use crate::failure::Failure;
use crate::failure::{Exit, api_exit};
use crate::output::{self, Labels, Output};
use crate::progress;
use crate::session::{Session, message_id};
use crate::tail::{Delivery, Reader};

pub async fn run(session: &Session, command: ChatCommand, out: Output) -> Result<(), Failure> {
    match command {
        ChatCommand::Communities => communities(session, out).await,
        ChatCommand::Channels => channels(session, out).await,
        ChatCommand::Send(args) => send(session, args, out).await,
        ChatCommand::Dm { user, text } => {
            let text = text_or_stdin(text, "message")?;
            let channel = session.dm(&user).await?;
            let request = CreateMessageRequest {
                body_md: text,
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            };
            let message = session.client.send_message(channel.id, &request).await?;
            sent(session, &message, out).await
        }
        ChatCommand::Read(args) => read(session, args, out).await,
        ChatCommand::Tail { channels } => tail(session, &channels, out).await,
        ChatCommand::Search { query, limit, sort } => search(session, query, limit, sort, out).await,
        ChatCommand::Upload { channel, file, message } => upload(session, &channel, &file, message, out).await,
        ChatCommand::Notifications { unread, mark_read, limit } => {
            notifications(session, unread, mark_read, limit, out).await
        }
        ChatCommand::React { message, emoji, remove } => {
            let id = message_id(&message)?;
            if remove {
                session.client.remove_reaction(id, &emoji).await?;
            } else {
                session.client.add_reaction(id, &emoji).await?;
            }
            if out.json {
                return out.json(&json!({"message_id": id, "emoji": emoji, "reacted": !remove}));
            }
            println!("{} {} on {id}", if remove { "Removed" } else { "Reacted" }, escape::line(&emoji));
            Ok(())
        }
        ChatCommand::Edit { message, text } => {
            let id = message_id(&message)?;
            let text = text_or_stdin(text, "new text")?;
            let message = session.client.update_message(id, &text).await?;
            sent(session, &message, out).await
        }
        ChatCommand::Delete { message } => {
            let id = message_id(&message)?;
            session.client.delete_message(id).await?;
            if out.json {
                return out.json(&json!({"deleted": id}));
            }
            println!("Deleted {id}");
            Ok(())
        }
        ChatCommand::Cmd { text, channel } => cmd(session, &text, channel.as_deref(), out).await,
    }
}

async fn communities(session: &Session, out: Output) -> Result<(), Failure> {
    let communities = session.client.list_communities().await?.data;
    if out.json {
        return out.json(&communities);
    }
    for community in &communities {
        println!(
            "{}  {}  {}  {}",
            escape::line(&community.slug),
            out.style.bold(&escape::line(&community.name)),
            community.role.as_str(),
            community.id
        );
    }
    Ok(())
}

async fn channels(session: &Session, out: Output) -> Result<(), Failure> {
    let mut channels = session.channels().await?;
    // Starred first, each group in the server's order.
    channels.sort_by_key(|item| !item.starred);
    if out.json {
        return out.json(&channels);
    }
    let now = time::OffsetDateTime::now_utc();
    for item in &channels {
        let mut line = output::channel_label(item);
        if !item.is_member {
            line.push_str(" (not joined)");
        }
        if item.unread_count > 0 {
            line.push_str(&format!("  {} unread", item.unread_count));
        }
        if item.mention_count > 0 {
            line.push_str(&format!(
                "  {} mention{}",
                item.mention_count,
                if item.mention_count == 1 { "" } else { "s" }
            ));
        }
        for mark in output::preference_marks(item.notify_level, item.muted_until, item.starred, now) {
            line.push_str(&format!("  {mark}"));
        }
        if item.channel.archived_at.is_some() {
            line.push_str("  archived");
        }
        if let Some(topic) = item.channel.topic.as_deref().filter(|topic| !topic.is_empty()) {
            line.push_str(&format!("  — {}", escape::line(topic)));
        }
        println!("{line}  {}", out.style.dim(&item.channel.id.to_string()));
    }
    Ok(())
}

async fn send(session: &Session, args: SendArgs, out: Output) -> Result<(), Failure> {
    let parent_id = args.thread.as_deref().map(message_id).transpose()?;
    let text = text_or_stdin(args.text, "message")?;
    let channel = session.channel(&args.channel).await?;
    let mut attachment_ids = Vec::with_capacity(args.files.len());
    for path in &args.files {
        attachment_ids.push(upload_file(session, channel.id, path).await?.id);
    }
    let request = CreateMessageRequest { body_md: text, parent_id, client_msg_id: args.client_msg_id, attachment_ids };
    let message = session.client.send_message(channel.id, &request).await?;
    sent(session, &message, out).await
}

/// Prints a message just sent or edited.
async fn sent(session: &Session, message: &Message, out: Output) -> Result<(), Failure> {
    if out.json {
        return out.json(message);
    }
    let labels = session.labels().await.unwrap_or_default();
    println!("{}", output::api_message(message, &labels, out.style));
    Ok(())
}

async fn read(session: &Session, args: ReadArgs, out: Output) -> Result<(), Failure> {
    let query = HistoryQuery {
        before: args.before.as_deref().map(message_id).transpose()?,
        after: args.after.as_deref().map(message_id).transpose()?,
        around: args.around.as_deref().map(message_id).transpose()?,
        limit: args.limit,
    };
    let channel = session.channel(&args.channel).await?;
    let page = session.client.history(channel.id, &query).await?;
    if out.json {
        return out.json(&page.data);
    }
    let labels = Labels::new();
    for message in &page.data {
        println!("{}", output::api_message(message, &labels, out.style));
    }
    if page.data.is_empty() {
        eprintln!("No messages.");
    }
    Ok(())
}

async fn tail(session: &Session, names: &[String], out: Output) -> Result<(), Failure> {
    let mut wanted = None;
    if !names.is_empty() {
        let mut ids = HashSet::new();
        for name in names {
            ids.insert(session.channel(name).await?.id);
        }
        wanted = Some(ids);
    }
    let labels = session.labels().await?;
    let mut tail =
        Tail { session, wanted, labels, out, latest: HashMap::new(), reader: Reader::new(session.client.clone()) };
    tokio::select! {
        result = tail.run() => result,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// `tail`'s state: what to show, and the newest message shown per channel (to catch up
/// from after a `resync`).
struct Tail<'a> {
    session: &'a Session,
    wanted: Option<HashSet<ChannelId>>,
    labels: Labels,
    out: Output,
    latest: HashMap<ChannelId, MessageId>,
    reader: Reader,
}

impl Tail<'_> {
    async fn run(&mut self) -> Result<(), Failure> {
        loop {
            match self.reader.next().await? {
                Delivery::Connected { resumed: false } => {
                    eprintln!("tail: connected; waiting for messages (Ctrl-C to stop)");
                }
                Delivery::Connected { resumed: true } => eprintln!("tail: reconnected; catching up"),
                Delivery::Disconnected { reason, retry_in } => {
                    eprintln!(
                        "tail: disconnected ({}); retrying in {} ms",
                        escape::line(&reason),
                        retry_in.as_millis()
                    );
                }
                Delivery::Resync => self.catch_up().await?,
                Delivery::Event(event) => self.show(event.payload)?,
                Delivery::Ephemeral { .. } => {}
            }
        }
    }

    fn wants(&self, channel: ChannelId) -> bool {
        self.wanted.as_ref().is_none_or(|wanted| wanted.contains(&channel))
    }

    fn show(&mut self, payload: EventPayload) -> Result<(), Failure> {
        let (out, labels) = (self.out, &self.labels);
        match payload {
            EventPayload::MessageCreated(message) if self.wants(message.channel_id) => {
                self.latest.insert(message.channel_id, message.id);
                if out.json {
                    return out.json(&json!({"type": "message.created", "message": message}));
                }
                println!("{}", output::message(&message, labels, out.style));
            }
            EventPayload::MessageUpdated(message) if self.wants(message.channel_id) => {
                if out.json {
                    return out.json(&json!({"type": "message.updated", "message": message}));
                }
                println!("{}", out.style.dim(&format!("edited {}:", message.id)));
                println!("{}", output::message(&message, labels, out.style));
            }
            EventPayload::MessageDeleted(deleted) if self.wants(deleted.channel_id) => {
                if out.json {
                    return out
                        .json(&json!({"type": "message.deleted", "id": deleted.id, "channel_id": deleted.channel_id}));
                }
                let label = labels.get(&deleted.channel_id).cloned().unwrap_or_default();
                println!("{}", out.style.dim(&format!("deleted {} {label}", deleted.id)));
            }
            _ => {}
        }
        Ok(())
    }

    /// After a `resync`: each channel's messages after the newest one shown, once.
    async fn catch_up(&mut self) -> Result<(), Failure> {
        let latest: Vec<(ChannelId, MessageId)> = self.latest.iter().map(|(c, m)| (*c, *m)).collect();
        for (channel, after) in latest {
            let query = HistoryQuery { after: Some(after), limit: Some(100), ..HistoryQuery::default() };
            let page = match self.session.client.history(channel, &query).await {
                Ok(page) => page,
                // No longer readable: nothing to catch up there.
                Err(err) if api_exit(&err) == Exit::Forbidden || api_exit(&err) == Exit::NotFound => continue,
                Err(err) => return Err(err.into()),
            };
            for message in page.data {
                if self.reader.mark_seen(message.id) {
                    self.show(EventPayload::MessageCreated(EventMessage::from(message)))?;
                }
            }
        }
        Ok(())
    }
}

async fn search(
    session: &Session,
    q: String,
    limit: Option<u32>,
    sort: Option<SortArg>,
    out: Output,
) -> Result<(), Failure> {
    let sort = sort.map(|sort| match sort {
        SortArg::Relevance => SearchSort::Relevance,
        SortArg::Recent => SearchSort::Recent,
    });
    let hits = session.client.search(&SearchQuery { q, before: None, limit, sort, tz: None }).await?.data;
    if out.json {
        return out.json(&hits);
    }
    for hit in &hits {
        let label =
            hit.channel.name.as_deref().map_or_else(|| "(dm)".to_owned(), |name| format!("#{}", escape::line(name)));
        println!(
            "{} · {} · {} {}",
            out.style.bold(&output::author(&hit.message.author)),
            output::time(hit.message.created_at),
            label,
            out.style.dim(&format!("(id {})", hit.message.id))
        );
        println!("  {}", crate::render::snippet(&hit.snippet, out.style));
    }
    if hits.is_empty() {
        eprintln!("No matches.");
    }
    Ok(())
}

/// Uploads the file at `path` into `channel`, with a progress bar on a terminal.
async fn upload_file(session: &Session, channel: ChannelId, path: &std::path::Path) -> Result<Attachment, Failure> {
    let filename = path
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| Failure::Usage(format!("{} is not a file name", path.display())))?
        .to_owned();
    let unreadable = |err: std::io::Error| Failure::Io(format!("cannot read {}: {err}", path.display()));
    let file = tokio::fs::File::open(path).await.map_err(unreadable)?;
    let metadata = file.metadata().await.map_err(unreadable)?;
    if !metadata.is_file() {
        return Err(Failure::Usage(format!("{} is not a file", path.display())));
    }
    let len = metadata.len();
    let bar = progress::Bar::on_terminal(len);
    let shown = bar.clone();
    let attachment =
        session.client.upload_attachment_streamed(channel, &filename, file, len, move |sent| shown.update(sent)).await;
    bar.finish();
    Ok(attachment?)
}

/// `upload`: the file, then a message carrying it (its text `message`, else the file's name).
async fn upload(
    session: &Session,
    channel: &str,
    path: &std::path::Path,
    message: Option<String>,
    out: Output,
) -> Result<(), Failure> {
    let channel = session.channel(channel).await?;
    let attachment = upload_file(session, channel.id, path).await?;
    let request = CreateMessageRequest {
        body_md: message.unwrap_or_else(|| attachment.filename.clone()),
        parent_id: None,
        client_msg_id: None,
        attachment_ids: vec![attachment.id],
    };
    let message = session.client.send_message(channel.id, &request).await?;
    sent(session, &message, out).await
}

async fn notifications(
    session: &Session,
    unread: bool,
    mark_read: bool,
    limit: Option<u32>,
    out: Output,
) -> Result<(), Failure> {
    let query = NotificationQuery { unread: unread.then_some(true), before: None, limit };
    let notifications = session.client.list_notifications(&query).await?.data;
    // Only what was shown: a page may not hold every unread one.
    let unread: Vec<_> = notifications.iter().filter(|n| n.read_at.is_none()).map(|n| n.id).collect();
    let marked = match (mark_read, unread.is_empty()) {
        (false, _) => None,
        (true, true) => Some(Vec::new()),
        (true, false) => {
            let request = ReadNotificationsRequest { ids: Some(unread), all: None, channel_id: None };
            Some(session.client.read_notifications(&request).await?.ids)
        }
    };
    if out.json {
        return out.json(&json!({"notifications": notifications, "marked_read": marked}));
    }
    for notification in &notifications {
        let who = notification
            .actor
            .as_ref()
            .map_or_else(String::new, |actor| format!("@{} ", escape::line(&actor.username)));
        let channel = notification
            .channel
            .as_ref()
            .and_then(|channel| channel.name.as_deref())
            .map_or_else(String::new, |name| format!("in #{} ", escape::line(name)));
        let state = if notification.read_at.is_some() { "" } else { "● " };
        println!(
            "{state}{} · {} {who}{channel}{}",
            output::time(notification.created_at),
            notification.kind.as_str(),
            out.style.dim(&notification.message_id.map_or_else(String::new, |id| format!("(message {id})")))
        );
        if let Some(snippet) = &notification.snippet {
            println!("  {}", escape::line(snippet));
        }
    }
    if notifications.is_empty() {
        eprintln!("No notifications.");
    }
    if let Some(marked) = marked {
        eprintln!("Marked {} notification{} read.", marked.len(), if marked.len() == 1 { "" } else { "s" });
    }
    Ok(())
}

async fn cmd(session: &Session, text: &str, channel: Option<&str>, out: Output) -> Result<(), Failure> {
    if !text.starts_with('/') {
        return Err(Failure::Usage(format!("a slash command starts with `/`: {text:?}")));
    }
    let channel = match channel {
        Some(channel) => session.channel(channel).await?.id,
        None => {
            let community = session.community().await?;
            let channels = session.client.list_channels(community.id).await?.data;
            channels
                .into_iter()
                .find(|item| item.is_member)
                .map(|item| item.channel.id)
                .ok_or_else(|| Failure::NotFound("no channel to run it in: pass --in #channel".into()))?
        }
    };
    let outcome = session.client.run_command(channel, text).await?;
    if out.json {
        return out.json(&outcome);
    }
    if let Some(reply) = &outcome.reply {
        println!("{}", crate::render::markdown(reply, out.style));
    }
    if let Some(message) = &outcome.message {
        let labels = session.labels().await.unwrap_or_default();
        println!("{}", output::api_message(message, &labels, out.style));
    }
    Ok(())
}
