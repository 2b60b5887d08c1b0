//! A member's own channel preferences from the command line: `star`, `unstar`, `mute`,
//! `unmute` and `notify`, each checked in what it prints, in what the API then holds, and
//! in how `channels` lists the channel; bad input ends with a clear message and exit code.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{ChannelListItem, NotifyLevel};
use ajet_shared::client::ApiClient;
use ajet_shared::domain::ids::{ChannelId, CommunityId};
use time::OffsetDateTime;

use crate::cli::{Cli, acme, channel};
use crate::stack::Stack;

/// `who`'s listing of `id` in `community`, as the API holds it.
async fn listed(who: &ApiClient, community: CommunityId, id: ChannelId) -> ChannelListItem {
    let channels = who.list_channels(community).await.expect("channels").data;
    channels.into_iter().find(|item| item.channel.id == id).expect("listed")
}

#[tokio::test]
async fn starring_muting_and_the_notify_level_are_set_by_name_and_shown_in_the_listing() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let zulu = channel(&acme.alice, &acme.community, "zulu").await;
    let cli = Cli::signed_in(&stack, &acme.alice).await;
    let first = |run: &crate::cli::Run| run.stdout.lines().next().unwrap_or_default().to_owned();
    let channels = cli.run(&["channels"]).await.ok();
    assert!(first(&channels).starts_with("#dev"), "the server's order before any star: {channels:?}");

    let starred = cli.run(&["star", "#zulu"]).await.ok();
    assert_eq!(starred.stdout, "#zulu: ★ starred · not muted · notify: all\n");
    assert!(listed(&acme.alice, acme.community.id, zulu.id).await.starred);
    let channels = cli.run(&["channels"]).await.ok();
    assert!(first(&channels).starts_with("#zulu  ★ starred"), "starred first: {channels:?}");
    let json = cli.run(&["channels", "--json"]).await.ok().json();
    assert_eq!(json[0]["name"], "zulu", "starred first in JSON too");
    assert!(!listed(&acme.bob, acme.community.id, acme.dev.id).await.starred, "bob's preferences are his own");

    let before = OffsetDateTime::now_utc();
    let muted = cli.run(&["mute", "dev", "--for", "2h", "--json"]).await.ok().json();
    assert_eq!(muted["channel_id"], acme.dev.id.to_string().as_str());
    let until = listed(&acme.alice, acme.community.id, acme.dev.id).await.muted_until.expect("muted");
    let expected = before + time::Duration::hours(2);
    assert!(until >= expected - time::Duration::minutes(1) && until <= expected + time::Duration::minutes(1));
    let channels = cli.run(&["channels"]).await.ok();
    let dev = channels.stdout.lines().find(|line| line.starts_with("#dev")).expect("#dev listed");
    assert!(dev.contains("  muted until 20") && dev.contains(" UTC"), "{channels:?}");
    let muted = cli.run(&["mute", "#dev"]).await.ok();
    assert_eq!(muted.stdout, "#dev: not starred · muted · notify: all\n", "muted until unmuted");
    let until = listed(&acme.alice, acme.community.id, acme.dev.id).await.muted_until.expect("muted");
    assert!(until > OffsetDateTime::now_utc() + time::Duration::days(36_500));
    cli.run(&["mute", "#dev", "--until", "2999-01-01T00:00:00Z"]).await.ok();
    let until = listed(&acme.alice, acme.community.id, acme.dev.id).await.muted_until.expect("muted");
    assert_eq!(until.year(), 2999);

    let notify = cli.run(&["notify", "#dev", "mentions"]).await.ok();
    assert_eq!(notify.stdout, "#dev: not starred · muted · notify: mentions\n");
    let item = listed(&acme.alice, acme.community.id, acme.dev.id).await;
    assert_eq!(item.notify_level, NotifyLevel::Mentions);
    let channels = cli.run(&["channels"]).await.ok();
    let dev = channels.stdout.lines().find(|line| line.starts_with("#dev")).expect("#dev listed");
    assert!(dev.contains("  muted  notify: mentions"), "{channels:?}");

    let unmuted = cli.run(&["unmute", "#dev"]).await.ok();
    assert_eq!(unmuted.stdout, "#dev: not starred · not muted · notify: mentions\n");
    assert_eq!(listed(&acme.alice, acme.community.id, acme.dev.id).await.muted_until, None);
    cli.run(&["notify", "#dev", "all"]).await.ok();
    let unstarred = cli.run(&["unstar", "#zulu", "--json"]).await.ok().json();
    assert_eq!(unstarred["starred"], false);
    let item = listed(&acme.alice, acme.community.id, zulu.id).await;
    assert!(!item.starred);
    let channels = cli.run(&["channels"]).await.ok();
    assert!(first(&channels).starts_with("#dev"), "no star, the server's order again: {channels:?}");
    let dev = channels.stdout.lines().find(|line| line.starts_with("#dev")).expect("#dev listed");
    assert!(!dev.contains("muted") && !dev.contains("notify") && !dev.contains("starred"), "{channels:?}");
    stack.stop().await;
}

#[tokio::test]
async fn bad_preferences_are_refused_with_a_clear_message_and_change_nothing() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    channel(&acme.alice, &acme.community, "random").await;
    let bob = Cli::signed_in(&stack, &acme.bob).await;

    bob.run(&["notify", "#dev", "loud"]).await.fails(2, "invalid value 'loud'");
    bob.run(&["notify", "#dev"]).await.fails(2, "required arguments were not provided");
    bob.run(&["mute", "#dev", "--for", "5s"]).await.fails(2, "\"5s\" is not a duration like 30m, 8h, 2d or 1w");
    bob.run(&["mute", "#dev", "--for", "0m"]).await.fails(2, "between 1 minute and a year");
    bob.run(&["mute", "#dev", "--until", "tomorrow"]).await.fails(2, "is not a time like 2026-12-01T09:00:00Z");
    bob.run(&["mute", "#dev", "--until", "2001-01-01T00:00:00Z"]).await.fails(2, "would end in the past");
    bob.run(&["mute", "#dev", "--for", "1h", "--until", "2999-01-01T00:00:00Z"]).await.fails(2, "cannot be used with");
    bob.run(&["star", "#nope"]).await.fails(4, "no channel #nope in acme");
    bob.run(&["star", "#random"]).await.fails(3, ErrorCode::NotAChannelMember.as_str());
    bob.run(&["star"]).await.fails(2, "required arguments were not provided");

    let item = listed(&acme.bob, acme.community.id, acme.dev.id).await;
    assert_eq!((item.starred, item.muted_until, item.notify_level), (false, None, NotifyLevel::All));
    stack.stop().await;
}

#[tokio::test]
async fn a_preference_for_at_user_needs_an_existing_dm_and_never_opens_one() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let alice = Cli::signed_in(&stack, &acme.alice).await;

    for command in [vec!["star", "@bob"], vec!["mute", "@bob", "--for", "1h"], vec!["notify", "@bob", "none"]] {
        alice.run(&command).await.fails(4, "no DM with @bob");
    }
    assert!(acme.alice.list_dms().await.expect("dms").data.is_empty(), "no DM was opened for alice");
    assert!(acme.bob.list_dms().await.expect("dms").data.is_empty(), "nor does bob see one");

    let bob_id = acme.bob.me().await.expect("me").user.id;
    let dm = acme.alice.open_dm(&[bob_id]).await.expect("a DM");
    let starred = alice.run(&["star", "@bob"]).await.ok();
    assert_eq!(starred.stdout, "this DM: ★ starred · not muted · notify: all\n");
    let dms = acme.alice.list_dms().await.expect("dms").data;
    assert_eq!(dms.len(), 1, "still the one DM: {:?}", dms.iter().map(|item| item.channel.id).collect::<Vec<_>>());
    assert!(dms[0].channel.id == dm.id && dms[0].starred);
    stack.stop().await;
}
