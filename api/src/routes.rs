//! The api's route table, one module per resource.

mod attachments;
mod avatars;
mod channels;
mod commands;
mod communities;
mod dms;
mod invites;
mod me;
mod messages;
mod moderation;
mod notifications;
mod presence;
mod search;
mod sync;
mod tokens;
mod webhooks;

use ajet_shared::api::paths;
use std::sync::LazyLock;

use axum::{Json, Router};
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Ref, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Header, RefOr, Required};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use ajet_shared::api::{ApiError, ErrorCode};

use crate::state::AppState;

/// The description's frame; the paths come from the handlers' annotations through `routes!`,
/// so each route's method and path are written once, in its annotation.
#[derive(OpenApi)]
#[openapi(
    info(title = "ajet-chat API", description = "The REST API behind the gateway. Errors are `{\"error\": {\"code\", \"message\"}}` with a code from `ErrorCode`; request bodies with unknown fields are refused (400 `unknown_field`)."),
    components(schemas(ErrorCode)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The routes and their description, built together.
fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut description) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me::get_me, me::update_me))
        .routes(routes!(me::get_security_log))
        .routes(routes!(avatars::put_avatar, avatars::delete_avatar))
        .routes(routes!(avatars::get_avatar))
        .routes(routes!(avatars::put_webhook_avatar, avatars::get_webhook_avatar, avatars::delete_webhook_avatar))
        .routes(routes!(communities::list_communities, communities::create_community))
        .routes(routes!(communities::get_community, communities::update_community))
        .routes(routes!(communities::list_members))
        .routes(routes!(moderation::update_member))
        .routes(routes!(moderation::list_bans, moderation::create_ban))
        .routes(routes!(moderation::delete_ban))
        .routes(routes!(moderation::create_kick))
        .routes(routes!(moderation::list_mutes, moderation::create_mute))
        .routes(routes!(moderation::delete_mute))
        .routes(routes!(moderation::list_audit))
        .routes(routes!(moderation::moderate_channel))
        .routes(routes!(moderation::purge_channel))
        .routes(routes!(channels::list_channels, channels::create_channel))
        .routes(routes!(invites::list_invites, invites::create_invite))
        .routes(routes!(invites::revoke_invite))
        .routes(routes!(invites::accept_invite))
        .routes(routes!(channels::get_channel, channels::update_channel, channels::archive_channel))
        .routes(routes!(channels::join_channel))
        .routes(routes!(channels::leave_channel))
        .routes(routes!(channels::add_member))
        .routes(routes!(channels::remove_member))
        .routes(routes!(channels::mark_read))
        .routes(routes!(channels::update_preferences))
        .routes(routes!(messages::list_messages, messages::create_message))
        .routes(routes!(messages::list_pins))
        .routes(unlimited_body(routes!(attachments::upload_attachment)))
        .routes(routes!(attachments::download_attachment))
        .routes(routes!(attachments::download_thumbnail))
        .routes(routes!(messages::get_message, messages::update_message, messages::delete_message))
        .routes(routes!(messages::list_replies))
        .routes(routes!(messages::add_reaction, messages::remove_reaction))
        .routes(routes!(messages::pin_message, messages::unpin_message))
        .routes(routes!(dms::list_dms, dms::open_dm))
        .routes(routes!(presence::heartbeat))
        .routes(routes!(presence::get_presence))
        .routes(routes!(notifications::list_notifications))
        .routes(routes!(notifications::read_notifications))
        .routes(routes!(commands::list_commands, commands::run_command))
        .routes(routes!(sync::sync))
        .routes(routes!(search::search_messages))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(webhooks::list_webhooks, webhooks::create_webhook))
        .routes(routes!(webhooks::revoke_webhook))
        .routes(routes!(webhooks::list_webhook_deliveries))
        .routes(routes!(openapi_json))
        .split_for_parts();
    // Parameters first: an operation with any answers 400 for a malformed one.
    describe_path_parameters(&mut description);
    add_common_responses(&mut description);
    (router, description)
}

/// Lifts axum's default body limit on a route that enforces its own while streaming (the
/// gateway's `max_body_bytes` still bounds it).
fn unlimited_body(
    (schemas, paths, router): utoipa_axum::router::UtoipaMethodRouter<AppState>,
) -> utoipa_axum::router::UtoipaMethodRouter<AppState> {
    (schemas, paths, router.layer(axum::extract::DefaultBodyLimit::disable()))
}

/// An error answer with the `ErrorBody` schema.
fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
        .build()
}

/// Adds the answers that whole kinds of operation can give, where an annotation does not
/// name them already, so the description holds every status the stack answers: the
/// gateway's 429 and 502/504, the extractors' 400/413/415, the token checks' 401/403, and
/// the 500/503 any operation can meet.
fn add_common_responses(description: &mut utoipa::openapi::OpenApi) {
    for item in description.paths.paths.values_mut() {
        add_common_responses_to(item.get.as_mut(), false);
        for operation in [&mut item.put, &mut item.post, &mut item.delete, &mut item.patch] {
            add_common_responses_to(operation.as_mut(), true);
        }
    }
}

/// `writes`: a write refuses a body with fields even where it takes none (400).
fn add_common_responses_to(operation: Option<&mut Operation>, writes: bool) {
    let Some(operation) = operation else { return };
    let signed_in = operation.security.is_some();
    let has_body = operation.request_body.is_some();
    let has_parameters = operation.parameters.as_ref().is_some_and(|parameters| !parameters.is_empty());
    let mut common: Vec<(&str, Response)> = Vec::new();
    if has_body || has_parameters || writes {
        common.push((
            "400",
            error_response(
                "invalid input; the code says what (`unknown_field`, `invalid_body`, `invalid_path`, `invalid_query`, …) and the message names the field",
            ),
        ));
    }
    if signed_in {
        common.push(("401", error_response("not signed in, or the token expired or was revoked")));
        common.push(("403", error_response("not allowed (e.g. the token lacks the scope)")));
    }
    if has_body {
        common.push(("413", error_response("the body is larger than the gateway accepts")));
        common.push(("415", error_response("the body is not `application/json`")));
    }
    let retry_after = Header::new(ObjectBuilder::new().schema_type(Type::Integer));
    let rate_limited = ResponseBuilder::from(error_response("rate limited: retry after `Retry-After` seconds"))
        .header("Retry-After", retry_after)
        .build();
    common.push(("429", rate_limited));
    common.push(("500", error_response("a failure of ours, logged; the body says only `internal_error`")));
    common.push(("502", error_response("the gateway could not reach the api")));
    common.push(("503", error_response("a dependency (the database) is unreachable; retry shortly")));
    common.push(("504", error_response("the api did not answer the gateway in time")));
    for (status, response) in common {
        operation.responses.responses.entry(status.to_owned()).or_insert_with(|| response.into());
    }
    // An annotation's own 429 (e.g. a per-user allowance) still says when to retry.
    if let Some(RefOr::T(rate_limited)) = operation.responses.responses.get_mut("429") {
        rate_limited
            .headers
            .entry("Retry-After".to_owned())
            .or_insert_with(|| RefOr::T(Header::new(ObjectBuilder::new().schema_type(Type::Integer))));
    }
}

/// What a path parameter is, by the resource it follows and its name; described here once
/// for every operation (annotations declare only query parameters).
fn path_parameter_meaning(resource: &str, name: &str) -> Option<(&'static str, bool)> {
    Some(match (resource, name) {
        ("communities", "id") => ("the community's id, or its slug", false),
        ("communities" | "invites", "code") => ("the invite's code", false),
        ("communities", "user_id") => ("the user's id (a member, or a banned or muted user)", true),
        ("channels", "id") => ("the channel's id", true),
        ("channels", "user_id") => ("the member's user id", true),
        ("messages", "id") => ("the message's id", true),
        ("messages", "emoji") => ("a Unicode emoji (percent-encoded) or a `:shortcode:`", false),
        ("tokens", "id") => ("the API token's id", true),
        ("webhooks", "id") => ("the webhook's id", true),
        ("attachments", "id") => ("the attachment's id", true),
        ("users", "id") => ("the user's id", true),
        _ => return None,
    })
}

/// Adds every `{name}` of each path as a required path parameter, typed (a UUID for ids) and
/// described; a parameter this table does not know is left out, which the description's
/// test reports.
fn describe_path_parameters(description: &mut utoipa::openapi::OpenApi) {
    for (path, item) in &mut description.paths.paths {
        let resource = path.split('/').nth(2).unwrap_or_default();
        let names: Vec<&str> = path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')))
            .collect();
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            let parameters = operation.parameters.get_or_insert_with(Vec::new);
            for name in &names {
                let declared = parameters.iter().any(|p| matches!(p, RefOr::T(p) if p.name == *name));
                let Some((meaning, is_uuid)) = path_parameter_meaning(resource, name).filter(|_| !declared) else {
                    continue;
                };
                let format = is_uuid.then_some(SchemaFormat::KnownFormat(KnownFormat::Uuid));
                let parameter = ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some(meaning))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String).format(format)))
                    .build();
                parameters.insert(0, RefOr::T(parameter));
            }
        }
    }
}

/// The description, built once.
static DESCRIPTION: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| parts().1);

/// The api's OpenAPI description.
#[must_use]
pub fn description() -> &'static utoipa::openapi::OpenApi {
    &DESCRIPTION
}

/// This description.
#[utoipa::path(get, path = paths::OPENAPI, tag = "api", responses((status = 200, description = "OpenAPI 3.1 JSON")))]
async fn openapi_json() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(description())
}

pub fn router() -> Router<AppState> {
    parts().0.route_layer(axum::middleware::from_fn(refuse_unwanted_bodies))
}

/// Largest body an operation without one may carry to be looked at (an empty object).
const UNWANTED_BODY_MAX: usize = 1024;

/// Operations whose description has no request body take none: a body with any field is
/// refused (400 `unknown_field` naming it) as on every other endpoint, instead of being
/// ignored; an empty body or `{}` passes.
async fn refuse_unwanted_bodies(
    matched: axum::extract::MatchedPath,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let takes_body = description().paths.paths.get(matched.as_str()).is_some_and(|item| {
        let operation = match *request.method() {
            http::Method::POST => item.post.as_ref(),
            http::Method::PUT => item.put.as_ref(),
            http::Method::PATCH => item.patch.as_ref(),
            http::Method::DELETE => item.delete.as_ref(),
            _ => return true,
        };
        operation.is_none_or(|operation| operation.request_body.is_some())
    });
    if takes_body {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, UNWANTED_BODY_MAX).await else {
        return ApiError::bad_request(ErrorCode::UnknownField, "this endpoint takes no request body").into_response();
    };
    let trimmed = bytes.trim_ascii();
    if !trimmed.is_empty() && trimmed != b"{}" {
        let field = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(trimmed)
            .ok()
            .and_then(|object| object.keys().next().cloned());
        let message = match field {
            Some(field) => format!("{field}: this endpoint takes no request body"),
            None => "this endpoint takes no request body".to_owned(),
        };
        return ApiError::bad_request(ErrorCode::UnknownField, message).into_response();
    }
    next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await
}
