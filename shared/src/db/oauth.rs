//! `oauth_accounts`: external identities (GitHub, Gitea, an OpenID Connect provider) and the
//! users they log in as. An account is keyed by the provider's stable subject id, never by
//! its login name, which can be renamed and reused.

use sqlx::PgConnection;

use crate::api::wire::User;
use crate::db::users::UserRow;
use crate::domain::ids::UserId;
use crate::domain::names::unfit_for_label;

/// What a provider tells us about the person logging in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalProfile {
    /// The configured provider id (`github`, `corp-sso`).
    pub provider: String,
    /// The provider's stable id for the person (GitHub's numeric id, OIDC `sub`).
    pub subject: String,
    /// The login name at the provider, if it has one.
    pub login: Option<String>,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub email: Option<String>,
}

/// A username made from what the provider calls the person: lowercase, characters outside
/// `[a-z0-9_.-]` replaced by `-`, starting with a letter or digit, at most `max` long.
fn username_base(raw: &str, max: usize) -> String {
    let mapped: String = raw
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '-' })
        .collect();
    let trimmed = mapped.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let base: String = trimmed.chars().take(max).collect();
    if base.is_empty() { "user".chars().take(max).collect() } else { base }
}

/// A display name `DisplayName` accepts (1–64 characters, none `unfit_for_label`: a provider's
/// control or bidi characters are dropped), if `raw` gives one.
fn display_name(raw: Option<&str>) -> Option<String> {
    let value: String = raw?.trim().chars().filter(|c| !unfit_for_label(*c)).take(64).collect();
    let value = value.trim().to_owned();
    (!value.is_empty()).then_some(value)
}

fn avatar_url(raw: Option<&str>) -> Option<String> {
    raw.filter(|url| (url.starts_with("https://") || url.starts_with("http://")) && url.len() <= 2048)
        .map(str::to_owned)
}

fn email(raw: Option<&str>) -> Option<String> {
    raw.filter(|email| {
        let parts: Vec<&str> = email.split('@').collect();
        email.len() <= 254
            && parts.len() == 2
            && parts.iter().all(|part| !part.is_empty() && !part.chars().any(char::is_whitespace))
    })
    .map(str::to_owned)
}

/// The user `profile` logs in as: the linked one, or a new user linked now (then the
/// boolean is true). Run it in a transaction.
/// True when the provider account is linked to an active user (a returning user, who may
/// always log in; anyone else is signing up).
pub async fn is_linked(conn: &mut PgConnection, profile: &ExternalProfile) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM oauth_accounts a JOIN users u ON u.id = a.user_id
         WHERE a.provider = $1 AND a.provider_user_id = $2 AND u.deactivated_at IS NULL)",
    )
    .bind(&profile.provider)
    .bind(&profile.subject)
    .fetch_one(conn)
    .await
}

pub async fn login_user(conn: &mut PgConnection, profile: &ExternalProfile) -> Result<(User, bool), sqlx::Error> {
    let linked: Option<UserRow> = sqlx::query_as(
        "SELECT u.id, u.username, u.display_name, u.avatar_url
         FROM oauth_accounts a JOIN users u ON u.id = a.user_id
         WHERE a.provider = $1 AND a.provider_user_id = $2 AND u.deactivated_at IS NULL",
    )
    .bind(&profile.provider)
    .bind(&profile.subject)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(user) = linked {
        sqlx::query(
            "UPDATE oauth_accounts SET last_login_at = now(), provider_login = $3
             WHERE provider = $1 AND provider_user_id = $2",
        )
        .bind(&profile.provider)
        .bind(&profile.subject)
        .bind(&profile.login)
        .execute(&mut *conn)
        .await?;
        return Ok((user.into(), false));
    }

    let wanted = profile.login.as_deref().or(profile.display_name.as_deref()).unwrap_or("user");
    let name = display_name(profile.display_name.as_deref())
        .or_else(|| display_name(profile.login.as_deref()))
        .unwrap_or_else(|| "New user".to_owned());
    let mut candidates: Vec<String> = vec![username_base(wanted, 32)];
    candidates.extend((2..10).map(|n| format!("{}-{n}", username_base(wanted, 29))));
    candidates.push(format!("{}-{}", username_base(wanted, 23), &uuid::Uuid::now_v7().simple().to_string()[24..]));
    let mut created = None;
    for username in candidates {
        created = sqlx::query_as(
            "INSERT INTO users (id, username, display_name, avatar_url, email) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT ON CONSTRAINT users_username_unique DO NOTHING
             RETURNING id, username, display_name, avatar_url",
        )
        .bind(UserId::generate())
        .bind(&username)
        .bind(&name)
        .bind(avatar_url(profile.avatar_url.as_deref()))
        .bind(email(profile.email.as_deref()))
        .fetch_optional(&mut *conn)
        .await?;
        if created.is_some() {
            break;
        }
    }
    let user: UserRow = created.ok_or(sqlx::Error::RowNotFound)?;
    sqlx::query(
        "INSERT INTO oauth_accounts (id, user_id, provider, provider_user_id, provider_login)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(user.id)
    .bind(&profile.provider)
    .bind(&profile.subject)
    .bind(&profile.login)
    .execute(&mut *conn)
    .await?;
    Ok((user.into(), true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_derived_within_the_schemas_rules() {
        for (raw, expected) in [
            ("Octo.Cat", "octo.cat"),
            ("  José Núñez ", "jos--n--ez"),
            ("__x", "x"),
            ("", "user"),
            ("日本", "user"),
            (&"a".repeat(40), &"a".repeat(32)),
        ] {
            assert_eq!(username_base(raw, 32), expected, "{raw}");
        }
    }

    #[test]
    fn provider_values_the_schema_would_refuse_are_dropped() {
        assert_eq!(display_name(Some("  ")), None);
        assert_eq!(display_name(Some(&"x".repeat(70))).map(|n| n.len()), Some(64));
        assert_eq!(avatar_url(Some("javascript:alert(1)")), None);
        assert_eq!(email(Some("a@b")), Some("a@b".to_owned()));
        assert_eq!(email(Some("not an email")), None);
    }
}
