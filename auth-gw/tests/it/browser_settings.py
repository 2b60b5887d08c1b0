"""The settings screens and the accessibility check, in real Chromium (Debian's, never a
downloaded one), driven by Playwright for Python, against the whole stack through the
gateway. Run by `auth-gw/tests/it/browser_settings.rs`, which starts the stack and passes:

  AJET_BROWSER_URL        the gateway's base URL
  AJET_BROWSER_CHROMIUM   the Chromium executable (/usr/bin/chromium)
  AJET_BROWSER_ARTIFACTS  a folder for the screenshots
  AJET_BROWSER_AXE        axe-core's axe.min.js (pinned; installed by xtask from npm)

Alice bootstraps a community and uses the settings from the app shell's Settings link: her
display name, an API token (its secret shown once, with a copy button), an invite whose link
bob opens to join, bob made an admin and back from the members screen, a webhook (its URL
shown once, its avatar uploaded, shown, removed), bob muted (listed, lifted), #general's newest
message purged once the confirmation is ticked (and gone from its page), and the audit log
recording it all. Bob, a member, opening the admin screens'
URLs gets a 403 page showing nothing of them.

Then axe-core checks the login page, the channel view, the search overlay and the settings
screens in the light and the dark theme: any `serious` or `critical` violation fails the
run; the others are printed. Screenshots of the settings screens (light and dark) are saved.
Exits non-zero with the reasons on failure.
"""

import base64
import os
import re
import sys

from playwright.sync_api import expect, sync_playwright

BASE = os.environ["AJET_BROWSER_URL"]
CHROMIUM = os.environ.get("AJET_BROWSER_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = os.environ["AJET_BROWSER_ARTIFACTS"]
with open(os.environ["AJET_BROWSER_AXE"], encoding="utf-8") as axe_file:
    AXE = axe_file.read()

# A 1×1 PNG, for a webhook's avatar.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
)

# Violations of these impacts fail the run.
FAILING = {"serious", "critical"}

problems = []


def check(condition, message):
    if not condition:
        problems.append(message)
        print("FAIL:", message, flush=True)


def dev_login(page, username):
    page.goto(BASE + "/")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    page.fill("input[name=username]", username)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def new_context(browser, scheme="light", axe=False):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme=scheme)
    if axe:
        # The pages' CSP allows no inline script, so axe cannot be added as a <script>
        # element; an init script is evaluated by the browser itself (DevTools protocol,
        # `Page.addScriptToEvaluateOnNewDocument`), which the page's CSP does not govern.
        # Only these checking contexts get it; the pages' CSP stays as served.
        context.add_init_script(script=AXE)
    return context


def audit(page, name):
    """Runs axe-core on the page as it is now: serious and critical violations fail."""
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, { resultTypes: ['violations'] });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\\s+/g, ' '))
            }));
        }"""
    )
    for violation in result:
        failing = violation["impact"] in FAILING
        print(
            f"{'FAIL' if failing else 'note'} axe {name}: {violation['impact']} {violation['id']}: {violation['help']}",
            flush=True,
        )
        for node in violation["nodes"]:
            print(f"      {node}", flush=True)
        if failing:
            problems.append(f"axe {name}: {violation['impact']} {violation['id']}")
    print(f"axe {name}: {len(result)} violation(s)", flush=True)


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        alice_context = new_context(browser)
        alice = alice_context.new_page()
        alice.on("pageerror", lambda err: print(f"alice page error: {err}", flush=True))

        # Alice bootstraps the community and says something.
        dev_login(alice, "alice")
        alice.fill("input[name=name]", "Acme")
        alice.fill("input[name=slug]", "acme")
        alice.click("button[type=submit]")
        expect(alice).to_have_url(BASE + "/c/acme/general")
        box = alice.locator("#composer-body")
        box.fill("Welcome to **Acme**: the release notes are in #general")
        box.press("Enter")
        # The sent row, not the optimistic one: leaving the page earlier would cancel the send.
        expect(alice.locator("#messages li.message:not(.pending)")).to_have_count(1)

        # The settings are reached from the shell.
        alice.click("a.settings-link")
        expect(alice).to_have_url(BASE + "/settings/profile")
        expect(alice.locator("main h1")).to_have_text("Profile")

        # Her display name.
        alice.fill("#display_name", "Alice Liddell")
        alice.click("button:has-text('Save name')")
        expect(alice).to_have_url(BASE + "/settings/profile?done=saved")
        expect(alice.locator(".form-done")).to_have_text("Saved.")
        expect(alice.locator("#display_name")).to_have_value("Alice Liddell")

        # An API token: one without scopes is refused with the api's reason and the form
        # kept; then the secret shows once.
        alice.click("nav.settings-nav a:has-text('API tokens')")
        alice.fill("#token-name", "deploy")
        alice.fill("#token-expiry", "30")
        alice.uncheck("input[name=read]")
        alice.click("button:has-text('Create token')")
        expect(alice.locator(".form-error")).to_contain_text("scopes")
        expect(alice.locator("#token-name")).to_have_value("deploy")
        expect(alice.locator("#token-expiry")).to_have_value("30")
        alice.check("input[name=read]")
        alice.check("input[name=write]")
        alice.click("button:has-text('Create token')")
        secret = alice.locator("#new-token").input_value()
        check(len(secret) > 20, f"the secret is shown: {secret!r}")
        expect(alice.locator(".secret button:has-text('Copy')")).to_be_visible()
        expect(alice.locator("table.settings-table")).to_contain_text("deploy")
        check(
            alice.request.get(BASE + "/api/me", headers={"Authorization": f"Bearer {secret}"}).ok,
            "the shown secret works",
        )
        alice.reload()
        check(secret not in alice.content(), "the secret is not shown again")

        # An invite: its link, opened by bob, brings him in.
        alice.goto(BASE + "/c/acme/settings/invites")
        alice.select_option("#invite-expires", "week")
        alice.fill("#invite-uses", "5")
        alice.click("button:has-text('Create invite')")
        expect(alice.locator(".form-done")).to_contain_text("The invite was created")
        link = alice.locator(".copy-row input").first.input_value()
        check(link.startswith(BASE + "/invite/"), f"the invite link is on our origin: {link}")
        expect(alice.locator("table.settings-table")).to_contain_text("0 of 5")

        bob_context = new_context(browser)
        bob = bob_context.new_page()
        dev_login(bob, "bob")
        bob.goto(link)
        bob.click("button[type=submit]")
        expect(bob).to_have_url(re.compile(r"/c/acme"))

        # Bob, a member, gets nothing from the admin screens.
        for screen in ["community", "channels", "members", "invites", "webhooks", "audit"]:
            answer = bob.goto(f"{BASE}/c/acme/settings/{screen}")
            check(answer.status == 403, f"bob opening {screen} answered {answer.status}")
            expect(bob.locator("main")).to_contain_text("Only the community's admins can see this.")
            check(link.split("/")[-1] not in bob.content(), f"the {screen} screen leaks the invite to bob")
        bob.goto(BASE + "/settings/profile")
        expect(bob.locator("nav.settings-nav")).not_to_contain_text("Invites")

        # Alice renames the community and turns link previews off from its screen; the
        # shell shows the new name; previews go on again.
        alice.goto(BASE + "/c/acme/settings/community")
        alice.fill("#community-name", "Acme Labs")
        alice.locator("input[name=link_previews]").uncheck()
        alice.click("button:has-text('Save')")
        expect(alice).to_have_url(BASE + "/c/acme/settings/community?done=saved")
        expect(alice.locator("input[name=link_previews]")).not_to_be_checked()
        community = alice.request.get(BASE + "/api/communities").json()["data"][0]
        check(community["name"] == "Acme Labs" and not community["link_previews"], f"saved: {community}")
        alice.goto(BASE + "/c/acme/general")
        expect(alice.locator(".sidebar h2")).to_have_text("Acme Labs")
        alice.goto(BASE + "/c/acme/settings/community")
        alice.locator("input[name=link_previews]").check()
        alice.click("button:has-text('Save')")
        expect(alice.locator(".form-done")).to_have_text("Saved.")
        expect(alice.locator("input[name=link_previews]")).to_be_checked()

        # Alice freezes #general from the channels screen, and thaws it.
        alice.goto(BASE + "/c/acme/settings/channels")
        general = alice.locator("section.channel-settings", has_text="# general")
        general.locator("input[name=frozen]").check()
        general.locator("button[type=submit]").click()
        expect(alice.locator(".form-done")).to_have_text("Saved.")
        expect(general.locator("input[name=frozen]")).to_be_checked()
        general.locator("input[name=frozen]").uncheck()
        general.locator("button[type=submit]").click()
        expect(alice.locator(".form-done")).to_have_text("Saved.")
        expect(general.locator("input[name=frozen]")).not_to_be_checked()

        # Alice makes bob an admin, and a member again.
        alice.goto(BASE + "/c/acme/settings/members")
        row = alice.locator("tr", has_text="@bob")
        row.locator("select").select_option("admin")
        row.locator("button:has-text('Change role')").click()
        expect(alice.locator(".form-done")).to_have_text("The role was changed.")
        expect(alice.locator("tr", has_text="@bob").locator("select")).to_have_value("admin")
        alice.locator("tr", has_text="@bob").locator("select").select_option("member")
        alice.locator("tr", has_text="@bob").locator("button:has-text('Change role')").click()
        expect(alice.locator("tr", has_text="@bob").locator("select")).to_have_value("member")

        # A webhook: its URL is shown once; its delivery log is a click away.
        alice.goto(BASE + "/c/acme/settings/webhooks")
        alice.fill("#webhook-name", "CI")
        alice.click("button:has-text('Create webhook')")
        url = alice.locator("#new-webhook").input_value()
        check("/hook/" in url, f"the webhook URL is shown: {url}")
        delivered = alice.request.post(url, data={"text": "build green"})
        check(delivered.ok, f"the webhook URL works: {delivered.status}")
        alice.click("table.settings-table a:has-text('CI')")
        expect(alice.locator("main h1")).to_have_text("Deliveries of CI")
        expect(alice.locator("table.settings-table")).to_contain_text("posted")
        webhook_path = alice.url[len(BASE):]

        # Its avatar, uploaded from its page, is shown there (the image really loads).
        expect(alice.locator("main")).to_contain_text("No avatar")
        alice.set_input_files("#webhook-avatar-file", files=[{"name": "ci.png", "mimeType": "image/png", "buffer": PNG}])
        alice.click("button:has-text('Upload avatar')")
        expect(alice.locator(".form-done")).to_have_text("The webhook's avatar was updated.")
        avatar = alice.locator("img.avatar-preview")
        expect(avatar).to_be_visible()
        loaded = alice.wait_for_function("img => img.complete && img.naturalWidth === 1", arg=avatar.element_handle())
        check(loaded, "the webhook's avatar loads")
        alice.click("button:has-text('Remove avatar')")
        expect(alice.locator(".form-done")).to_have_text("The webhook's avatar was removed.")
        expect(alice.locator("img.avatar-preview")).to_have_count(0)
        # Uploaded again, for the screenshots.
        alice.set_input_files("#webhook-avatar-file", files=[{"name": "ci.png", "mimeType": "image/png", "buffer": PNG}])
        alice.click("button:has-text('Upload avatar')")
        expect(alice.locator("img.avatar-preview")).to_be_visible()

        # Bob muted for a day with a reason: listed with who muted him, then lifted.
        alice.goto(BASE + "/c/acme/settings/mutes")
        expect(alice.locator("main")).to_contain_text("Nobody is muted.")
        alice.select_option("#mute-user", alice.locator("#mute-user option", has_text="(@bob)").get_attribute("value"))
        alice.select_option("#mute-duration", "day")
        alice.fill("#mute-reason", "cool off")
        alice.click("button:has-text('Mute')")
        expect(alice.locator(".form-done")).to_have_text("The member was muted.")
        row = alice.locator("tr", has_text="@bob")
        expect(row).to_contain_text("cool off")
        expect(row).to_contain_text("Alice Liddell")
        community_id = alice.request.get(BASE + "/api/communities").json()["data"][0]["id"]
        mutes = alice.request.get(f"{BASE}/api/communities/{community_id}/mutes").json()["data"]
        check(len(mutes) == 1 and mutes[0]["user"]["username"] == "bob", f"the api holds the mute: {mutes}")
        row.locator("button:has-text('Unmute')").click()
        expect(alice.locator(".form-done")).to_have_text("The mute was lifted.")
        expect(alice.locator("main")).to_contain_text("Nobody is muted.")
        mutes = alice.request.get(f"{BASE}/api/communities/{community_id}/mutes").json()["data"]
        check(mutes == [], f"the mute is lifted: {mutes}")
        # One left in force, for the screenshots.
        alice.select_option("#mute-user", alice.locator("#mute-user option", has_text="(@bob)").get_attribute("value"))
        alice.select_option("#mute-duration", "")
        alice.fill("#mute-reason", "until the release")
        alice.click("button:has-text('Mute')")
        expect(alice.locator("tr", has_text="@bob")).to_contain_text("until the release")

        # A purge of #general's newest message: refused by the browser until the box is
        # ticked, then done, and the message gone from the channel's page.
        alice.goto(BASE + "/c/acme/general")
        box = alice.locator("#composer-body")
        box.fill("an accidental paste of secrets")
        box.press("Enter")
        expect(
            alice.locator("#messages li.message:not(.pending)", has_text="an accidental paste of secrets")
        ).to_have_count(1)
        alice.goto(BASE + "/c/acme/settings/channels")
        alice.click("a:has-text('Delete the newest messages of #general')")
        purge_path = alice.url[len(BASE):]
        expect(alice.locator("main")).to_contain_text("cannot be undone")
        alice.fill("#purge-count", "1")
        alice.fill("#purge-reason", "secrets")
        alice.click("button:has-text('Delete messages')")
        check(alice.url == BASE + purge_path, f"nothing is sent before the box is ticked: {alice.url}")
        alice.check("#purge-confirm")
        alice.click("button:has-text('Delete messages')")
        expect(alice.locator("#purged")).to_have_text("1 message was deleted from #general.")
        alice.goto(BASE + "/c/acme/general")
        expect(alice.locator("#messages")).not_to_contain_text("an accidental paste of secrets")
        expect(alice.locator("#messages")).to_contain_text("release notes")

        # The audit log records it.
        alice.goto(BASE + "/c/acme/settings/audit")
        expect(alice.locator("table.settings-table")).to_contain_text("member.role")
        expect(alice.locator("table.settings-table")).to_contain_text("webhook.create")

        # Screenshots of the settings screens, light and dark (the theme switch, remembered).
        screens = [
            ("profile", "/settings/profile"),
            ("tokens", "/settings/tokens"),
            ("community", "/c/acme/settings/community"),
            ("channels", "/c/acme/settings/channels"),
            ("members", "/c/acme/settings/members"),
            ("mutes", "/c/acme/settings/mutes"),
            ("webhook", webhook_path),
            ("purge", purge_path),
            ("audit", "/c/acme/settings/audit"),
        ]
        for theme in ["light", "dark"]:
            alice.goto(BASE + "/settings/profile")
            # The page shows the theme at once; the cookie that keeps it comes with the
            # POST's answer, which must arrive before the next page is asked for.
            with alice.expect_response(lambda response, theme=theme: f"/theme?theme={theme}" in response.url):
                alice.click(f".theme-switch button:has-text('{theme.capitalize()}')")
            expect(alice.locator("html")).to_have_attribute("data-theme", theme)
            for name, path in screens:
                alice.goto(BASE + path)
                expect(alice.locator("html")).to_have_attribute("data-theme", theme)
                alice.screenshot(path=os.path.join(ARTIFACTS, f"settings-{name}-{theme}.png"))
            # At phone width the navigation stacks above the screen, and nothing overflows.
            alice.set_viewport_size({"width": 390, "height": 844})
            alice.goto(BASE + "/c/acme/settings/members")
            width = alice.evaluate("document.documentElement.scrollWidth")
            check(width <= 390, f"the members screen is {width} px wide at phone width ({theme})")
            alice.screenshot(path=os.path.join(ARTIFACTS, f"settings-members-phone-{theme}.png"), full_page=True)
            alice.set_viewport_size({"width": 1280, "height": 800})
        bob_context.close()

        # The accessibility check, in both themes (the system's, so the login page too).
        session = alice_context.cookies()
        for scheme in ["light", "dark"]:
            anonymous = new_context(browser, scheme, axe=True)
            login = anonymous.new_page()
            login.goto(BASE + "/auth/login")
            expect(login.locator("input[name=username]")).to_be_visible()
            audit(login, f"login ({scheme})")
            anonymous.close()

            checking = new_context(browser, scheme, axe=True)
            checking.add_cookies([c for c in session if c["name"] == "ajet_session"])
            page = checking.new_page()
            check(
                page.goto(BASE + "/c/acme/general").ok and page.locator("html").get_attribute("data-theme") is None,
                "the checked pages follow the system theme",
            )
            expect(page.locator("#messages li.message").first).to_be_visible()
            audit(page, f"channel ({scheme})")
            page.click(".search-button")
            page.fill("#search-q", "release")
            # Generous: twice in a row under a loaded machine the results took over 5 s.
            expect(page.locator("#search-results li").first).to_be_visible(timeout=15000)
            audit(page, f"search ({scheme})")
            for name, path in screens + [
                ("invites", "/c/acme/settings/invites"),
                ("webhooks", "/c/acme/settings/webhooks"),
                ("security", "/settings/security"),
            ]:
                page.goto(BASE + path)
                audit(page, f"settings {name} ({scheme})")
            checking.close()

        browser.close()
    if problems:
        print(f"{len(problems)} problem(s):", *problems, sep="\n  ", flush=True)
        sys.exit(1)
    print("the settings and the accessibility check passed", flush=True)


if __name__ == "__main__":
    main()
