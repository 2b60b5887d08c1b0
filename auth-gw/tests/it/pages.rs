//! The gateway's pages from outside, as a browser sees them: the invite landing (what you
//! join, who invited you, the way in for a signed-out and a signed-in browser, joining with
//! the form), one "not valid" page for every invite that does not work (unknown, expired,
//! revoked, used up), the login page's landmarks, and the pages' strict CSP and hashed
//! stylesheet.

use ajet_shared::api::wire::{CreateCommunityRequest, CreateInviteRequest};
use reqwest::StatusCode;

use crate::oauth::no_redirects;
use crate::stack::Stack;

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().expect("ascii").to_owned()
}

/// A browser's GET of `path`, holding `session` if given.
async fn browse(stack: &Stack, path: &str, session: Option<&str>) -> reqwest::Response {
    let mut request = no_redirects()
        .get(format!("{}{path}", stack.gateway.base_url()))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8");
    if let Some(token) = session {
        request = request.header("cookie", format!("ajet_session={token}"));
    }
    request.send().await.expect("answers")
}

#[tokio::test]
async fn the_invite_landing_explains_the_community_and_leads_a_browser_through_sign_in_to_joining() {
    let stack = Stack::start().await;
    let base = stack.gateway.base_url().to_owned();
    let alice = stack.login("alice").await;
    let community = alice
        .create_community(&CreateCommunityRequest {
            name: "Acme <script>alert(1)</script>".into(),
            slug: "acme".into(),
            description: Some("Where <b>Acme</b> talks".into()),
        })
        .await
        .expect("community");
    let request = CreateInviteRequest { expires_in_secs: Some(86_400), max_uses: Some(5) };
    let invite = alice.create_invite(community.id, &request).await.expect("invite");
    let invite_path = format!("/invite/{}", invite.code);

    // Signed out: what you join, and the way to sign in.
    let landing = browse(&stack, &invite_path, None).await;
    assert_eq!(landing.status(), StatusCode::OK);
    let policy = landing.headers()["content-security-policy"].to_str().expect("ascii").to_owned();
    assert!(policy.starts_with("default-src 'none'") && !policy.contains("unsafe"), "{policy}");
    assert!(landing.headers()["set-cookie"].to_str().expect("ascii").starts_with("ajet_invite="));
    let page = landing.text().await.expect("a page");
    for expected in [
        "<h1>Join Acme &lt;script&gt;alert(1)&lt;/script&gt; on ajet-chat</h1>",
        "Invited by <strong>alice</strong> (@alice)",
        "Where &lt;b&gt;Acme&lt;/b&gt; talks",
        "<li>1 member</li>",
        "This invite expires on <time datetime=\"",
        &format!("href=\"/auth/login?next=/invite/{}\">Continue to sign in</a>", invite.code),
    ] {
        assert!(page.contains(expected), "{expected} in {page}");
    }
    assert!(!page.contains("<script>"), "{page}");

    // The pages' stylesheet, by its hashed name.
    let href = page.split("rel=\"stylesheet\" href=\"").nth(1).and_then(|rest| rest.split('"').next()).expect("a link");
    let css = browse(&stack, href, None).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.headers()["content-type"].to_str().expect("ascii").starts_with("text/css"));
    assert!(css.headers()["cache-control"].to_str().expect("ascii").contains("immutable"));
    assert_eq!(browse(&stack, "/auth/assets/pages.0000000000000000.css", None).await.status(), StatusCode::NOT_FOUND);

    // The login page keeps the way back; the dev login returns there.
    let login = browse(&stack, &format!("/auth/login?next={invite_path}"), None).await.text().await.expect("page");
    assert!(login.contains(&format!("name=\"next\" value=\"{invite_path}\"")), "{login}");
    let logged_in = no_redirects()
        .post(format!("{base}/auth/dev-login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=bob&next=%2Finvite%2F{}", invite.code))
        .send()
        .await
        .expect("answers");
    assert_eq!(logged_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&logged_in), invite_path);
    let session = logged_in.headers()["set-cookie"].to_str().expect("ascii");
    let session = session.strip_prefix("ajet_session=").and_then(|rest| rest.split(';').next()).expect("a session");

    // A signed-in browser sent to the login page with a way back goes straight back.
    let again = browse(&stack, &format!("/auth/login?next={invite_path}"), Some(session)).await;
    assert_eq!((again.status(), location(&again)), (StatusCode::SEE_OTHER, invite_path.clone()));

    // Signed in: a form to join at once.
    let page = browse(&stack, &invite_path, Some(session)).await.text().await.expect("page");
    assert!(page.contains("signed in as @bob"), "{page}");
    assert!(page.contains(&format!("<form method=\"post\" action=\"{invite_path}\">")), "{page}");

    // Another site cannot make the browser join.
    let forged = no_redirects()
        .post(format!("{base}{invite_path}"))
        .header("cookie", format!("ajet_session={session}"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("answers");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let joined = no_redirects()
        .post(format!("{base}{invite_path}"))
        .header("cookie", format!("ajet_session={session}"))
        .header("origin", &base)
        .header("accept", "text/html")
        .send()
        .await
        .expect("answers");
    assert_eq!((joined.status(), location(&joined)), (StatusCode::SEE_OTHER, "/c/acme".to_owned()));
    let bob = stack.gateway.with_token(session);
    let communities = bob.list_communities().await.expect("listed").data;
    assert_eq!(communities.iter().map(|c| c.slug.as_str()).collect::<Vec<_>>(), ["acme"]);

    // A member sees the way to the community, and the count includes them.
    let page = browse(&stack, &invite_path, Some(session)).await.text().await.expect("page");
    assert!(page.contains("<li>2 members</li>"), "{page}");
    assert!(page.contains("<a class=\"button\" href=\"/c/acme\">Open Acme"), "{page}");
    stack.stop().await;
}

#[tokio::test]
async fn unknown_expired_revoked_and_used_up_invites_all_get_the_same_not_valid_page() {
    let stack = Stack::start().await;
    let alice = stack.login("alice").await;
    let community = alice
        .create_community(&CreateCommunityRequest {
            name: "Secret Society".into(),
            slug: "secret".into(),
            description: None,
        })
        .await
        .expect("community");
    let create = |max_uses| CreateInviteRequest { expires_in_secs: Some(3600), max_uses };
    let expired = alice.create_invite(community.id, &create(None)).await.expect("invite");
    sqlx::query(
        "UPDATE invites SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'
         WHERE code = $1",
    )
    .bind(&expired.code)
    .execute(&stack.db.pool)
    .await
    .expect("expired");
    let revoked = alice.create_invite(community.id, &create(None)).await.expect("invite");
    alice.revoke_invite(community.id, &revoked.code).await.expect("revoked");
    let used_up = alice.create_invite(community.id, &create(Some(1))).await.expect("invite");
    stack.login("carol").await.accept_invite(&used_up.code).await.expect("carol uses it up");

    let mut pages = Vec::new();
    for code in ["nope-not-a-code", expired.code.as_str(), revoked.code.as_str(), used_up.code.as_str()] {
        let response = browse(&stack, &format!("/invite/{code}"), None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{code}");
        assert!(!response.headers().contains_key("set-cookie"), "{code}: nothing remembered");
        let page = response.text().await.expect("page");
        assert!(page.contains("<h1>This invite is not valid</h1>"), "{code}: {page}");
        assert!(!page.contains("Secret Society") && !page.contains("alice"), "{code}: no detail leaks: {page}");
        pages.push(page);
    }
    assert!(pages.windows(2).all(|pair| pair[0] == pair[1]), "one page whatever the reason");

    // Joining with one is refused the same way; the member who used it up still finds
    // their way in.
    let bob = stack.login("bob").await;
    let refused = no_redirects()
        .post(format!("{}/invite/{}", stack.gateway.base_url(), expired.code))
        .bearer_auth(bob.token().expect("a token"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("answers");
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert_eq!(refused.text().await.expect("page"), pages[0]);
    let carol = stack.login("carol").await;
    let page = browse(&stack, &format!("/invite/{}", used_up.code), carol.token()).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.expect("page").contains("You are a member of Secret Society"));
    stack.stop().await;
}

#[tokio::test]
async fn the_login_page_has_landmarks_a_labelled_dev_form_and_a_script_free_policy() {
    let stack = Stack::start().await;
    let response = browse(&stack, "/auth/login", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let policy = response.headers()["content-security-policy"].to_str().expect("ascii").to_owned();
    assert!(policy.contains("default-src 'none'") && !policy.contains("script-src"), "{policy}");
    let page = response.text().await.expect("a page");
    for expected in [
        "<main class=\"page\"><h1>Log in to ajet-chat</h1>",
        "<label for=\"dev-username\">Username<input id=\"dev-username\"",
        "<button type=\"submit\">Dev login</button>",
    ] {
        assert!(page.contains(expected), "{expected} in {page}");
    }
    stack.stop().await;
}
