//! What the pages do: create the first community and channels (plain form POSTs answered
//! with a redirect), join a public channel, send, edit and delete messages (Datastar
//! requests answered with patches). Every write goes through the api with the viewer's
//! token; a refusal is shown in the notice line (or the form's page) with the api's own
//! message. Sends carry the composer's `client_msg_id`, so a double submit or a retry
//! never posts twice; the message itself reaches every tab, the sender's too, through the
//! live stream.

use ajet_shared::api::ApiError;
use ajet_shared::api::wire::{ChannelKind, CreateChannelRequest, CreateCommunityRequest, CreateMessageRequest};
use ajet_shared::client::ClientError;
use ajet_shared::domain::ids::{ChannelId, MessageId};
use axum::Json;
use axum::extract::{Form, Path};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use serde::Deserialize;

use crate::datastar::{Frames, Mode};
use crate::error::PageError;
use crate::extract::Viewer;
use crate::views::{self, MessageView, message};

/// What the api said, for the notice line.
fn refusal(err: &ClientError) -> String {
    match err.message() {
        Some(message) => message.to_owned(),
        None => "The server could not be reached; try again.".to_owned(),
    }
}

/// Frames showing `message` in the notice line.
fn notice(message: &str) -> Frames {
    let mut frames = Frames::new();
    frames.patch(Mode::Outer, None, &views::notice(Some(message)));
    frames
}

#[derive(Deserialize)]
pub struct NewCommunity {
    name: String,
    slug: String,
}

/// `POST /communities` (the bootstrap form).
pub async fn create_community(viewer: Viewer, Form(form): Form<NewCommunity>) -> Result<Response, PageError> {
    let request = CreateCommunityRequest { name: form.name, slug: form.slug, description: None };
    match viewer.api.create_community(&request).await {
        Ok(community) => Ok(Redirect::to(&format!("/c/{}", community.slug)).into_response()),
        Err(err @ ClientError::Api { .. }) if err.status().is_some_and(|s| s.is_client_error()) => {
            let me = viewer.api.me().await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, views::bootstrap_page(&me.user.username, Some(&refusal(&err))))
                .into_response())
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
pub struct NewChannel {
    name: String,
    private: Option<String>,
}

/// `POST /c/{slug}` (the sidebar's form): creates the channel and opens it.
pub async fn create_channel(
    viewer: Viewer,
    Path(slug): Path<String>,
    Form(form): Form<NewChannel>,
) -> Result<Response, PageError> {
    let me = viewer.api.me().await?;
    let community = super::pages::community_by_slug(&me, &slug)?;
    let kind = if form.private.is_some() { ChannelKind::Private } else { ChannelKind::Public };
    let request = CreateChannelRequest { name: form.name, topic: None, kind: Some(kind) };
    match viewer.api.create_channel(community.id, &request).await {
        Ok(channel) => Ok(Redirect::to(&format!("/c/{slug}/{}", channel.name.unwrap_or_default())).into_response()),
        Err(err @ ClientError::Api { .. }) if err.status().is_some_and(|s| s.is_client_error()) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, views::error_page("The channel was not created", &refusal(&err)))
                .into_response())
        }
        Err(err) => Err(err.into()),
    }
}

/// `POST /channels/{id}/join`: joins a public channel and opens it.
pub async fn join_channel(viewer: Viewer, Path(id): Path<ChannelId>) -> Result<Response, PageError> {
    let channel = viewer.api.join_channel(id).await?;
    let me = viewer.api.me().await?;
    let community = me.communities.iter().find(|c| Some(c.id) == channel.community_id);
    Ok(Redirect::to(&views::shell::channel_href(&channel, community)).into_response())
}

/// The composer's signals.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compose {
    body: String,
    cmid: String,
}

/// `POST /channels/{id}/messages`: sends the composer's body; on success the composer is
/// cleared and given a new `client_msg_id`.
pub async fn send_message(viewer: Viewer, Path(id): Path<ChannelId>, body: Bytes) -> Result<Frames, ApiError> {
    let Json(compose) = Json::<Compose>::from_bytes(&body).map_err(ApiError::from)?;
    if compose.body.trim().is_empty() {
        return Ok(Frames::new());
    }
    let request = CreateMessageRequest {
        body_md: compose.body,
        parent_id: None,
        client_msg_id: Some(compose.cmid),
        attachment_ids: Vec::new(),
    };
    Ok(match viewer.api.send_message(id, &request).await {
        Ok(_) => {
            let mut frames = Frames::new();
            frames.signals(&serde_json::json!({ "body": "", "cmid": uuid::Uuid::now_v7().to_string() })).patch(
                Mode::Outer,
                None,
                &views::notice(None),
            );
            frames
        }
        Err(err) => notice(&format!("Not sent: {}", refusal(&err))),
    })
}

/// `GET /messages/{id}`: the message as shown (cancels an edit).
pub async fn show_message(viewer: Viewer, Path(id): Path<MessageId>) -> Frames {
    match viewer.api.get_message(id).await {
        Ok(found) => {
            let me = match viewer.api.me().await {
                Ok(me) => me.user.id,
                Err(err) => return notice(&refusal(&err)),
            };
            let mut frames = Frames::new();
            frames.patch(Mode::Outer, None, &views::message_item(&MessageView::from(&found), me));
            frames
        }
        Err(err) => notice(&refusal(&err)),
    }
}

/// `GET /messages/{id}/edit`: the message as an edit form.
pub async fn edit_message_form(viewer: Viewer, Path(id): Path<MessageId>) -> Frames {
    match viewer.api.get_message(id).await {
        Ok(found) => {
            let mut frames = Frames::new();
            frames.patch(Mode::Outer, None, &message::edit_form(&MessageView::from(&found)));
            frames
        }
        Err(err) => notice(&refusal(&err)),
    }
}

#[derive(Deserialize)]
pub struct Edit {
    body: String,
}

/// `POST /messages/{id}/edit` (form-encoded): saves the edit.
pub async fn edit_message(viewer: Viewer, Path(id): Path<MessageId>, Form(edit): Form<Edit>) -> Frames {
    match viewer.api.update_message(id, &edit.body).await {
        Ok(updated) => {
            let viewer_id = updated.author.user_id;
            let mut frames = Frames::new();
            if let Some(viewer_id) = viewer_id {
                frames.patch(Mode::Outer, None, &views::message_item(&MessageView::from(&updated), viewer_id));
            }
            frames.patch(Mode::Outer, None, &views::notice(None));
            frames
        }
        Err(err) => notice(&format!("Not saved: {}", refusal(&err))),
    }
}

/// `POST /messages/{id}/delete`.
pub async fn delete_message(viewer: Viewer, Path(id): Path<MessageId>) -> Frames {
    match viewer.api.delete_message(id).await {
        Ok(()) => {
            let mut frames = Frames::new();
            frames.patch(Mode::Outer, None, &message::tombstone(id));
            frames
        }
        Err(err) => notice(&format!("Not deleted: {}", refusal(&err))),
    }
}
