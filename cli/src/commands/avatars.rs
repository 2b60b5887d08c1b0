//! Avatars from the terminal: `avatar FILE | --remove` for your own and `webhook avatar
//! WEBHOOK FILE | --remove` for a webhook's (admins). One helper reads and checks the image
//! for both — a readable file of at most 1 MiB that is a PNG, JPEG, GIF or WebP by its bytes
//! — before anything is sent; the API checks again and its refusal is shown as it says it.

use std::path::Path;

use ajet_shared::api::wire::{User, WebhookInfo};
use ajet_shared::domain::ids::WebhookId;
use ajet_shared::domain::media::{AVATAR_MAX_BYTES, is_avatar_type, sniff};
use tokio::io::AsyncReadExt as _;

use crate::args::AvatarArgs;
use crate::escape;
use crate::failure::Failure;
use crate::output::Output;
use crate::session::{Session, parse_id};

/// The largest avatar the API takes (`PUT /api/me/avatar`, `PUT /api/webhooks/{id}/avatar`).
const MAX_BYTES: u64 = AVATAR_MAX_BYTES as u64;

/// What an avatar command did, for its line of text.
#[derive(Clone, Copy)]
enum Change {
    Set,
    Removed,
}

impl Change {
    fn of(args: &AvatarArgs) -> Self {
        if args.remove { Self::Removed } else { Self::Set }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Set => "avatar set",
            Self::Removed => "avatar removed",
        }
    }
}

/// `ajet-chat avatar FILE | --remove`: my avatar; prints me (`User` with `--json`).
pub async fn mine(session: &Session, args: AvatarArgs, out: Output) -> Result<(), Failure> {
    let change = Change::of(&args);
    let me: User = match image(&args).await? {
        Some(bytes) => session.client.put_avatar(&bytes).await?,
        None => session.client.delete_avatar().await?,
    };
    if out.json {
        return out.json(&me);
    }
    println!("@{}: {}", escape::line(&me.username), change.as_str());
    Ok(())
}

/// `ajet-chat webhook avatar WEBHOOK FILE | --remove` (admins); prints the webhook
/// (`WebhookInfo` with `--json`).
pub async fn webhook(session: &Session, webhook: &str, args: AvatarArgs, out: Output) -> Result<(), Failure> {
    let webhook: WebhookId = parse_id(webhook, "webhook")?;
    let change = Change::of(&args);
    let info: WebhookInfo = match image(&args).await? {
        Some(bytes) => session.client.put_webhook_avatar(webhook, &bytes).await?,
        None => session.client.delete_webhook_avatar(webhook).await?,
    };
    if out.json {
        return out.json(&info);
    }
    println!("webhook {} ({}): {}", escape::line(&info.name), info.id, change.as_str());
    Ok(())
}

/// The image to upload, `None` for `--remove` (clap lets exactly one through).
async fn image(args: &AvatarArgs) -> Result<Option<Vec<u8>>, Failure> {
    match (&args.file, args.remove) {
        (Some(path), false) => read_image(path).await.map(Some),
        (None, true) => Ok(None),
        _ => Err(Failure::Usage("give an image file or --remove, not both".to_owned())),
    }
}

/// The bytes of the image at `path`: a file, readable, at most `MAX_BYTES`, a PNG, JPEG,
/// GIF or WebP by its first bytes.
async fn read_image(path: &Path) -> Result<Vec<u8>, Failure> {
    let shown = escape::line(&path.display().to_string()).into_owned();
    let unreadable = |err: std::io::Error| Failure::Io(format!("cannot read {shown}: {err}"));
    let file = tokio::fs::File::open(path).await.map_err(unreadable)?;
    let metadata = file.metadata().await.map_err(unreadable)?;
    if !metadata.is_file() {
        return Err(Failure::Usage(format!("{shown} is not a file")));
    }
    let too_large =
        |len: u64| Failure::Usage(format!("{shown} is {len} bytes; an avatar is at most 1 MiB ({MAX_BYTES} bytes)"));
    if metadata.len() > MAX_BYTES {
        return Err(too_large(metadata.len()));
    }
    let mut bytes = Vec::new();
    // One byte past the limit tells a file that grew since its metadata was read.
    file.take(MAX_BYTES + 1).read_to_end(&mut bytes).await.map_err(unreadable)?;
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if len > MAX_BYTES {
        return Err(too_large(len));
    }
    if !is_avatar_type(sniff(&bytes[..bytes.len().min(4096)])) {
        return Err(Failure::Usage(format!("{shown} is not a PNG, JPEG, GIF or WebP image")));
    }
    Ok(bytes)
}
