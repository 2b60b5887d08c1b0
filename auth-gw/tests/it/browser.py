"""The browser client in real Chromium (Debian's, never a downloaded one), driven by
Playwright for Python, against the whole stack through the gateway. Run by
`auth-gw/tests/it/browser.rs`, which starts the stack and passes:

  AJET_BROWSER_URL        the gateway's base URL
  AJET_BROWSER_CHROMIUM   the Chromium executable (/usr/bin/chromium)
  AJET_BROWSER_ARTIFACTS  a folder for the screenshots
  AJET_BROWSER_CONTROL    the test's control: POST /web-sm/stop and /web-sm/start

Two users in two browser contexts: dev login, the first-community bootstrap, creating a
channel, a message sent by one appearing for the other within 1 s without a reload, the
composer's optimistic send (a "Sending…" row replaced once by the message; refused by a
frozen channel or a too long text, marked failed with Retry and Discard, the draft kept,
posted once on Retry; a lost answer never duplicating), an
image shared by one showing for the other as its thumbnail, files attached in the composer
(picker, paste, drop; progress, removal, a refusal shown) and the full-size image viewer, an edit
and a delete propagating, thread replies (the panel and the root's summary live), reactions and pins live, typing shown, stopped and expired, slash commands with hints and replies only their sender sees, the composer's @ and # completion,
per-channel drafts across reloads, Up to edit one's last message and Esc closing sheets, search (Ctrl+K) and
jumping to a hit or a pin, the notification inbox, the member list with presence, the theme switch (remembered),
the phone-width drawer, the message list (grouping, the "New" divider, older and newer
history loading as one scrolls without moving what one reads), the thread panel live (typing,
the root's edit and deletion), the unread badge and mention pill of another channel (cleared on open, in the user's
second tab too), a tab catching up on what it missed exactly once (hidden then visible,
and its stream killed by a restart of web-sm), and XSS payloads rendering
inert (no dialog, no script, no CSP violation). Exits non-zero with the reason on failure.
"""

import base64
import os
import re
import struct
import sys
import time
import urllib.request
import zlib

from playwright.sync_api import expect, sync_playwright

BASE = os.environ["AJET_BROWSER_URL"]
CHROMIUM = os.environ.get("AJET_BROWSER_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = os.environ["AJET_BROWSER_ARTIFACTS"]
CONTROL = os.environ["AJET_BROWSER_CONTROL"]
LIVE = 1000  # ms: a message must reach the other user this fast

# Every one must show as text; none may run. Each would set a dialog or window.__xss.
PAYLOADS = [
    "<script>alert('script')</script>",
    "<img src=x onerror=alert('img-onerror')>",
    '<img src=x onerror="window.__xss=1">',
    "<svg onload=alert('svg')>",
    "<a href=\"javascript:alert('raw-a')\">raw link</a>",
    "<iframe src=\"javascript:alert('iframe')\"></iframe>",
    "[md link](javascript:alert('md-link'))",
    "[md upper](JaVaScRiPt:alert('md-upper'))",
    "[md data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![md img](x\" onerror=\"alert('md-img'))",
    "![md img js](javascript:alert('md-img-js'))",
    "[title trick](https://example.com \"x\\\" onmouseover=\\\"alert('title')\")",
    "<div data-on:load=\"alert('datastar-attr')\" data-init=\"alert('datastar-init')\">ds</div>",
    "{{constructor.constructor('alert(1)')()}} $x @post('/x')",
]

problems = []
dialogs = []
csp_violations = []


def check(condition, message):
    if not condition:
        problems.append(message)
        print("FAIL:", message, flush=True)


def watch(page, who):
    page.on("dialog", lambda dialog: (dialogs.append(f"{who}: {dialog.message}"), dialog.dismiss()))
    page.on(
        "console",
        lambda msg: csp_violations.append(f"{who}: {msg.text}")
        if msg.type == "error" and "Content Security Policy" in msg.text
        else None,
    )
    page.on("pageerror", lambda err: print(f"{who} page error: {err}", flush=True))


def png(width, height):
    """A real RGB PNG of one colour, made without an imaging library."""
    row = b"\x00" + bytes([230, 120, 40]) * width
    raw = zlib.compress(row * height)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def dev_login(page, username):
    page.goto(BASE + "/")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    page.fill("input[name=username]", username)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def control(action):
    """Asks the test to stop or start web-sm; answers once it is done."""
    request = urllib.request.Request(f"{CONTROL}/web-sm/{action}", method="POST")
    with urllib.request.urlopen(request, timeout=60) as answer:
        check(answer.status == 200, f"web-sm {action} answered {answer.status}")


def messages(page):
    return page.locator("#messages")


def send(page, text):
    box = page.locator("#composer-body")
    box.fill(text)
    box.press("Enter")


SENDS = re.compile(r"/channels/[0-9a-f-]+/messages")
SENDS_REPLIES = re.compile(r"/channels/[0-9a-f-]+/threads/[0-9a-f-]+")


def most_rows(page, text, list="messages"):
    """Counts, from now on, the most rows of a list ever holding `text` at once."""
    page.evaluate(
        """([text, id]) => {
            const list = document.getElementById(id);
            const count = () => {
                const rows = [...list.querySelectorAll('li.message')].filter((li) => li.textContent.includes(text));
                window.__most = Math.max(window.__most ?? 0, rows.length);
            };
            window.__most = 0;
            new MutationObserver(count).observe(list, {childList: true, subtree: true, characterData: true});
        }""",
        [text, list],
    )
    return lambda: page.evaluate("window.__most")


def posted(page, channel_id, text):
    """How many of the channel's messages (per the api) have exactly `text` as body."""
    history = page.request.get(f"{BASE}/api/channels/{channel_id}/messages?limit=100").json()["data"]
    return sum(1 for message in history if message["body_md"] == text)


def send_held(page, pattern, box, list_id, text, while_held=None):
    """Presses Enter in `box` with the send held at the network (requests matching
    `pattern`): the list's row for `text` shows at once, the sender's, as "Sending…";
    then `while_held` runs and the send goes on."""
    held = []

    def hold(route):
        held.append(route)

    page.route(pattern, hold)
    box.press("Enter")
    pending = page.locator(f"#{list_id} li.message.pending", has_text=text)
    expect(pending.locator(".send-status")).to_have_text("Sending…")
    expect(pending).to_have_attribute("data-author", re.compile(r"^u-"))
    expect(page.locator(f"#{list_id} li.pending")).to_have_count(1)
    for _ in range(250):  # Poll: Playwright hands the held request over while waiting.
        if held:
            break
        page.wait_for_timeout(20)
    check(len(held) == 1, f"one send of {text!r} reached the network, not {len(held)}")
    if while_held:
        while_held()
    for route in held:
        route.continue_()
    page.unroute(pattern)


def thread_composer(alice, bob, root_id):
    """The thread panel's composer is the channel's: a file from the picker with its
    progress, @ completion, the optimistic row (replaced once), a draft of its own kept
    across reloads, and Up to edit one's last reply (issue 18 §5)."""
    alice.goto(f"{BASE}/c/acme/general?thread={root_id}")
    expect(alice.locator("#replies li.message")).to_have_count(2)
    box = bob.locator("#reply-body")
    bob.set_input_files(
        "#reply-file-input", files=[{"name": "in-thread.png", "mimeType": "image/png", "buffer": png(64, 32)}]
    )
    expect(bob.locator("#reply-uploads li.done", has_text="in-thread.png")).to_be_visible()
    box.press_sequentially("look @al")
    expect(bob.locator("#reply-completion li .name")).to_have_text(["@alice"])
    box.press("Tab")
    expect(box).to_have_value("look @alice ")
    bob_most = most_rows(bob, "look @alice", "replies")
    send_held(bob, SENDS_REPLIES, box, "replies", "look @alice")
    shared = alice.locator("#replies li.message", has_text="look @alice")
    expect(shared.locator("ul.files a[title='in-thread.png'] img")).to_have_count(1, timeout=LIVE)
    expect(bob.locator("#replies li.message", has_text="look @alice")).to_have_attribute("id", re.compile(r"^m-"))
    expect(bob.locator("#reply-uploads li")).to_have_count(0)
    expect(box).to_have_value("")
    expect(bob.locator("#replies li.message", has_text="look @alice")).to_have_count(1)
    check(bob_most() == 1, f"bob saw his reply {bob_most()} times at once")

    # A draft per thread: back after a reload, and not the channel's.
    box.fill("a thought for the thread")
    bob.reload()
    expect(box).to_have_value("a thought for the thread")
    expect(bob.locator("#composer-body")).to_have_value("")
    box.fill("")

    # Up in the empty reply composer edits bob's last reply.
    box.press("ArrowUp")
    editor = bob.locator("#replies textarea[name=body]")
    expect(editor).to_be_focused()
    expect(editor).to_have_value(re.compile(r"^look @alice\s*$"))
    editor.fill("look @alice, edited")
    bob.locator("#replies button:has-text('Save')").click()
    expect(alice.locator("#replies li.message", has_text="look @alice, edited")).to_be_visible(timeout=LIVE)
    alice.goto(BASE + "/c/acme/general")
    expect(alice.locator("#composer-body")).to_be_visible()


def optimistic_sends(alice, bob, general_id):
    """The composer's optimistic send, its visible failure, Retry and Discard (issue 18 §5)."""
    box = bob.locator("#composer-body")
    rows = lambda page, text: messages(page).locator("li.message", has_text=text)  # noqa: E731

    # Held at the network: the row is there at once, as "Sending…".
    bob_most = most_rows(bob, "optimistic hello")
    alice_most = most_rows(alice, "optimistic hello")
    box.fill("optimistic hello")
    send_held(
        bob,
        SENDS,
        box,
        "messages",
        "optimistic hello",
        lambda: check(posted(alice, general_id, "optimistic hello") == 0, "the held send was posted"),
    )
    real = rows(bob, "optimistic hello")
    expect(real).to_have_count(1)
    expect(real).not_to_have_class(re.compile(r"\bpending\b"))
    expect(real).to_have_attribute("id", re.compile(r"^m-"))
    expect(rows(alice, "optimistic hello")).to_have_count(1, timeout=LIVE)
    expect(box).to_have_value("")
    # The stream's copy has come too (alice has it): still one row for bob.
    expect(real).to_have_count(1)
    check(bob_most() == 1, f"bob saw the sent message {bob_most()} times at once")
    check(alice_most() == 1, f"alice saw the sent message {alice_most()} times at once")
    check(posted(alice, general_id, "optimistic hello") == 1, "the message was posted once")

    # Refused: alice freezes #general; bob's send stays in place, failed with the api's
    # reason, his text kept; Discard drops one, and after alice unfreezes, Retry posts the
    # other exactly once.
    frozen = alice.request.patch(f"{BASE}/api/channels/{general_id}/moderation", data={"frozen": True})
    check(frozen.ok, f"freezing: {frozen.status} {frozen.text()}")
    send(bob, "dropped while frozen")
    failed = messages(bob).locator("li.message.pending", has_text="dropped while frozen")
    expect(failed.locator(".send-status.failed")).to_contain_text("Not sent — this channel is frozen")
    expect(box).to_have_value("dropped while frozen")
    failed.locator("button.discard").click()
    expect(failed).to_have_count(0)
    expect(box).to_have_value("")
    send(bob, "sent after the thaw")
    failed = messages(bob).locator("li.message.pending", has_text="sent after the thaw")
    expect(failed.locator(".send-status.failed")).to_contain_text("this channel is frozen")
    expect(box).to_have_value("sent after the thaw")
    # Still refused: the same row says so again, not a second one.
    failed.locator("button.retry").click()
    expect(failed.locator(".send-status.failed")).to_contain_text("this channel is frozen")
    expect(messages(bob).locator("li.pending")).to_have_count(1)
    thawed = alice.request.patch(f"{BASE}/api/channels/{general_id}/moderation", data={"frozen": False})
    check(thawed.ok, f"unfreezing: {thawed.status} {thawed.text()}")
    bob_most = most_rows(bob, "sent after the thaw")
    failed.locator("button.retry").click()
    expect(rows(alice, "sent after the thaw")).to_have_count(1, timeout=LIVE)
    expect(rows(bob, "sent after the thaw")).to_have_count(1)
    expect(rows(bob, "sent after the thaw")).to_have_attribute("id", re.compile(r"^m-"))
    expect(messages(bob).locator("li.pending")).to_have_count(0)
    expect(box).to_have_value("")
    check(bob_most() == 1, f"bob saw the retried message {bob_most()} times at once")
    check(posted(alice, general_id, "sent after the thaw") == 1, "the retried message was posted once")
    check(posted(alice, general_id, "dropped while frozen") == 0, "the discarded message was posted")

    # Too long: the api's reason, and the text kept to be shortened; sent shortened, once.
    send(bob, "x" * 4001)
    expect(messages(bob).locator("li.pending .send-status.failed")).to_contain_text("Not sent — ")
    expect(box).to_have_value("x" * 4001)
    send(bob, "short enough now")
    expect(rows(alice, "short enough now")).to_have_count(1, timeout=LIVE)
    expect(messages(bob).locator("li.pending")).to_have_count(0)
    check(posted(alice, general_id, "short enough now") == 1, "the shortened message was posted once")

    # Lost answers: the api posts, the page never hears back; its quick retries repeat
    # the key (the api answers each with the same message), and the message's own event
    # replaces the row and empties the composer.
    def lose_answer(route):
        route.fetch()
        route.abort()

    bob.route(SENDS, lose_answer)
    bob_most = most_rows(bob, "answer lost")
    send(bob, "answer lost")
    expect(rows(alice, "answer lost")).to_have_count(1, timeout=LIVE)
    expect(rows(bob, "answer lost")).to_have_attribute("id", re.compile(r"^m-"))
    expect(box).to_have_value("")
    bob.unroute(SENDS)
    send(bob, "after the lost answer")
    expect(rows(alice, "after the lost answer")).to_have_count(1, timeout=LIVE)
    expect(rows(bob, "answer lost")).to_have_count(1)
    check(bob_most() == 1, f"bob saw the lost answer's message {bob_most()} times at once")
    check(posted(alice, general_id, "answer lost") == 1, "a lost answer's message was posted once")
    check(posted(alice, general_id, "after the lost answer") == 1, "the next message was posted, once")

    # Left while sending: the page goes elsewhere with the send held at the network (the
    # browser cancels it), or after the api took it but before the answer came. Coming
    # back resumes the send with its key: posted once either way, the composer emptied.
    here = bob.url
    for label, handler in [
        ("cancelled by leaving", lambda route: None),
        ("taken before leaving", lambda route: route.fetch()),
    ]:
        bob.route(SENDS, handler)
        send(bob, label)
        expect(messages(bob).locator("li.message.pending", has_text=label)).to_have_count(1)
        if label == "taken before leaving":
            for _ in range(250):  # Poll: Playwright runs the route's handler while waiting.
                if posted(alice, general_id, label) == 1:
                    break
                bob.wait_for_timeout(20)
            check(posted(alice, general_id, label) == 1, "the api took the send before the page left")
        else:
            check(posted(alice, general_id, label) == 0, "the held send was posted")
        bob.goto(BASE + "/settings/profile")
        bob.unroute(SENDS)
        bob.goto(here)
        expect(rows(alice, label)).to_have_count(1, timeout=LIVE)
        expect(rows(bob, label)).to_have_count(1, timeout=LIVE)
        expect(rows(bob, label)).to_have_attribute("id", re.compile(r"^m-"))
        expect(box).to_have_value("")
        check(posted(alice, general_id, label) == 1, f"a send {label} was posted once")


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
        alice_context = browser.new_context(viewport={"width": 1280, "height": 800})
        bob_context = browser.new_context(viewport={"width": 1280, "height": 800})
        alice = alice_context.new_page()
        bob = bob_context.new_page()
        watch(alice, "alice")
        watch(bob, "bob")

        # Alice signs in on a fresh install and bootstraps the first community (HTML in
        # its name must stay text).
        dev_login(alice, "alice")
        expect(alice.locator("h1")).to_have_text("Create your community")
        alice.fill("input[name=name]", "Acme <img src=x onerror=alert('community')>")
        alice.fill("input[name=slug]", "acme")
        alice.click("button[type=submit]")
        expect(alice).to_have_url(BASE + "/c/acme/general")
        expect(alice.locator(".sidebar h2")).to_have_text("Acme <img src=x onerror=alert('community')>")

        # A channel whose name is HTML is refused with the api's reason, shown as text.
        alice.click("summary:has-text('Create a channel')")
        alice.fill("#new-channel-name", "<script>alert('channel')</script>")
        alice.click("button:has-text('Create channel')")
        expect(alice.locator("main.page h1")).to_have_text("The channel was not created")
        alice.goto(BASE + "/c/acme/general")
        # A real one.
        alice.click("summary:has-text('Create a channel')")
        alice.fill("#new-channel-name", "random")
        alice.click("button:has-text('Create channel')")
        expect(alice).to_have_url(BASE + "/c/acme/random")
        expect(alice.locator("#channel-header h1")).to_have_text("#random")

        # An HTML topic, set through the api with alice's session.
        communities = alice.request.get(BASE + "/api/communities").json()["data"]
        community_id = communities[0]["id"]
        channels = alice.request.get(f"{BASE}/api/communities/{community_id}/channels").json()["data"]
        general_id = next(c["id"] for c in channels if c["name"] == "general")
        random_id = next(c["id"] for c in channels if c["name"] == "random")
        topic = alice.request.patch(
            f"{BASE}/api/channels/{general_id}", data={"topic": "<img src=x onerror=alert('topic')>"}
        )
        check(topic.ok, f"setting the topic: {topic.status} {topic.text()}")
        invite = alice.request.post(f"{BASE}/api/communities/{community_id}/invites", data={}).json()

        # Bob signs in, accepts the invite, joins #general and #random from their pages.
        dev_login(bob, "bob")
        accepted = bob.request.post(f"{BASE}/api/invites/{invite['code']}/accept")
        check(accepted.ok, f"accepting the invite: {accepted.status}")
        for name in ["random", "general"]:
            bob.goto(f"{BASE}/c/acme/{name}")
            bob.click(f"button:has-text('Join #{name}')")
            expect(bob.locator("#composer-body")).to_be_visible()
        expect(bob.locator("#channel-header .topic")).to_have_text("<img src=x onerror=alert('topic')>")

        alice.goto(BASE + "/c/acme/general")
        expect(alice.locator("#composer-body")).to_be_visible()

        # A message from bob reaches alice within 1 s, without a reload.
        send(bob, "hello from **bob**")
        started = time.monotonic()
        expect(messages(alice).locator("li.message", has_text="hello from bob")).to_be_visible(timeout=LIVE)
        print(f"message reached the other user in {(time.monotonic() - started) * 1000:.0f} ms", flush=True)
        expect(messages(alice).locator("strong", has_text="bob")).to_be_visible()
        expect(bob.locator("#composer-body")).to_have_value("")
        expect(messages(bob).locator("li.message", has_text="hello from bob")).to_have_count(1)

        # Alice answers; bob sees it too.
        send(alice, "hi bob, welcome")
        expect(messages(bob).locator("li.message", has_text="hi bob, welcome")).to_be_visible(timeout=LIVE)

        # An image alice shares shows for bob as its thumbnail, its box reserved, loaded
        # through the gateway with his session (the download re-checks access).
        uploaded = alice.request.post(
            f"{BASE}/api/channels/{general_id}/attachments",
            multipart={"file": {"name": "sunset.png", "mimeType": "image/png", "buffer": png(300, 150)}},
        )
        check(uploaded.status == 201, f"upload answered {uploaded.status}: {uploaded.text()}")
        picture = alice.request.post(
            f"{BASE}/api/channels/{general_id}/messages",
            data={"body_md": "a picture", "attachment_ids": [uploaded.json()["id"]]},
        )
        check(picture.status == 201, f"posting the picture answered {picture.status}: {picture.text()}")
        image = messages(bob).locator("li.message", has_text="a picture").locator("ul.files img")
        expect(image).to_be_visible(timeout=LIVE)
        expect(image).to_have_attribute("width", "256")
        bob.wait_for_function(
            "(img) => img.complete && img.naturalWidth === 256 && img.naturalHeight === 128", arg=image.element_handle()
        )

        # Bob attaches files from the composer: by the picker (a PNG, and a file past the
        # stack's 256 KiB limit, refused with the api's reason), by pasting an image and by
        # dropping one on the channel; each is a chip with its progress. He removes the
        # refused one and the dropped one, then sends: alice sees the two images he kept.
        bob.set_input_files(
            "#file-input",
            files=[
                {"name": "picked.png", "mimeType": "image/png", "buffer": png(200, 100)},
                {"name": "huge.bin", "mimeType": "application/octet-stream", "buffer": b"x" * (300 * 1024)},
            ],
        )
        uploads = bob.locator("#uploads")
        expect(uploads.locator("li.done", has_text="picked.png")).to_be_visible()
        refused = uploads.locator("li.failed", has_text="huge.bin")
        expect(refused.locator(".status")).to_contain_text("Not uploaded: file: larger than")
        refused.locator("button.remove").click()
        expect(uploads.locator("li", has_text="huge.bin")).to_have_count(0)
        give = """([kind, target, name]) => {
            const bytes = Uint8Array.from(atob(window.__png), (c) => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], name, {type: 'image/png'}));
            const evt = kind === 'paste'
                ? new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true})
                : new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true});
            document.querySelector(target).dispatchEvent(evt);
        }"""
        bob.evaluate("(png) => { window.__png = png; }", base64.b64encode(png(120, 60)).decode())
        bob.evaluate(give, ["paste", "#composer-body", "pasted.png"])
        bob.evaluate(give, ["drop", "main.main", "dropped.png"])
        expect(uploads.locator("li.done")).to_have_count(3)
        uploads.locator("li", has_text="dropped.png").locator("button.remove").click()
        expect(uploads.locator("li")).to_have_count(2)
        send(bob, "three ways to share")
        expect(uploads.locator("li")).to_have_count(0)
        shared = messages(alice).locator("li.message", has_text="three ways to share")
        expect(shared.locator("ul.files img")).to_have_count(2, timeout=LIVE)
        expect(shared.locator("ul.files a[title='picked.png'] img")).to_have_attribute("width", "200")
        expect(shared.locator("ul.files a[title='pasted.png'] img")).to_have_attribute("width", "120")
        expect(shared.locator("ul.files a[title='dropped.png']")).to_have_count(0)

        # A thumbnail opens the original in the viewer; Esc closes it.
        viewer = alice.locator("#viewer")
        expect(viewer).to_be_hidden()
        shared.locator("ul.files a[title='picked.png']").click()
        expect(viewer).to_be_visible()
        expect(viewer.locator("img")).to_have_attribute("src", re.compile(r"^/api/attachments/[0-9a-f-]+$"))
        alice.wait_for_function(
            "(img) => img.complete && img.naturalWidth === 200", arg=viewer.locator("img").element_handle()
        )
        expect(alice).to_have_url(BASE + "/c/acme/general")
        alice.keyboard.press("Escape")
        expect(viewer).to_be_hidden()

        # Bob edits his message: alice sees the new text and the marker.
        mine = messages(bob).locator("li.message", has_text="hello from bob")
        mine.hover()
        mine.locator("button:has-text('Edit')").click()
        editor = messages(bob).locator("textarea[name=body]")
        expect(editor).to_have_value("hello from **bob**")
        editor.fill("hello again from bob")
        messages(bob).locator("button:has-text('Save')").click()
        edited = messages(alice).locator("li.message", has_text="hello again from bob")
        expect(edited).to_be_visible(timeout=LIVE)
        expect(edited.locator(".edited")).to_have_text("(edited)")

        # And deletes it: alice sees a tombstone, and the text is gone.
        mine = messages(bob).locator("li.message", has_text="hello again from bob")
        mine.hover()
        mine.locator("button:has-text('Delete')").click()
        expect(messages(alice).locator("li.tombstone, .tombstone")).to_have_count(1, timeout=LIVE)
        expect(messages(alice).locator("li.message", has_text="hello again from bob")).to_have_count(0)

        # Threads: bob opens one on alice's message and replies; alice's list shows the
        # summary live (the reply stays out of the list), her panel then gets bob's next
        # reply live, with the counts.
        root = messages(bob).locator("li.message", has_text="hi bob, welcome")
        root_id = root.get_attribute("id")[len("m-"):]
        root.hover()
        root.locator("a:has-text('Reply in thread')").click()
        expect(bob).to_have_url(re.compile(r"\?thread=" + root_id + "$"))
        expect(bob.locator("#thread #tr-" + root_id)).to_contain_text("hi bob, welcome")
        bob.locator("#reply-body").fill("first *reply*")
        bob.locator("#reply-body").press("Enter")
        expect(bob.locator("#replies li.message", has_text="first reply")).to_be_visible(timeout=LIVE)
        expect(bob.locator("#reply-body")).to_have_value("")
        summary = alice.locator("#ts-" + root_id)
        expect(summary).to_contain_text("1 reply", timeout=LIVE)
        expect(messages(alice).locator("li.message", has_text="first reply")).to_have_count(0)
        summary.locator("a").click()
        expect(alice).to_have_url(re.compile(r"\?thread=" + root_id + "$"))
        expect(alice.locator("#replies li.message", has_text="first reply")).to_have_count(1)
        bob.locator("#reply-body").fill("second reply")
        bob.locator("#reply-body").press("Enter")
        expect(alice.locator("#replies li.message", has_text="second reply")).to_be_visible(timeout=LIVE)
        expect(alice.locator("#thread-count")).to_have_text("2 replies")
        expect(alice.locator("#ts-" + root_id)).to_contain_text("2 replies")
        expect(bob.locator("#replies li.message")).to_have_count(2)
        alice.keyboard.press("Escape")
        expect(alice).to_have_url(BASE + "/c/acme/general")
        expect(alice.locator("#thread")).to_have_count(0)
        expect(alice.locator("#ts-" + root_id)).to_contain_text("2 replies")
        thread_composer(alice, bob, root_id)

        # Reactions: alice picks 👍 on her message; bob sees the count live, not as his;
        # his click on the pill adds his own, hers removes hers, each seen by the other.
        alice_root = messages(alice).locator("#m-" + root_id)
        bob_root = messages(bob).locator("#m-" + root_id)
        alice_root.hover()
        alice_root.locator("summary[aria-label='Add a reaction']").click()
        alice_root.locator("button[aria-label='thumbs up']").click()
        expect(alice_root.locator("button.reaction.mine")).to_have_text("👍 1")
        expect(bob_root.locator("button.reaction")).to_have_text("👍 1", timeout=LIVE)
        expect(bob_root.locator("button.reaction")).to_have_attribute("aria-pressed", "false")
        bob_root.locator("button.reaction").click()
        expect(bob_root.locator("button.reaction.mine")).to_have_text("👍 2")
        expect(alice_root.locator("button.reaction.mine")).to_have_text("👍 2", timeout=LIVE)
        alice_root.locator("button.reaction").click()
        expect(alice_root.locator("button.reaction")).to_have_attribute("aria-pressed", "false")
        expect(alice_root.locator("button.reaction")).to_have_text("👍 1")
        expect(bob_root.locator("button.reaction.mine")).to_have_text("👍 1", timeout=LIVE)

        # Pins: bob pins alice's message from its menu; alice's pins bar and the message's
        # marker follow live, the bar lists it and links to it; alice unpins, bob sees that.
        bob_root.hover()
        bob_root.locator("button:has-text('Pin')").click()
        expect(bob.locator("#pins summary")).to_have_text("📌 1")
        expect(alice.locator("#pins summary")).to_have_text("📌 1", timeout=LIVE)
        expect(alice_root.locator(".pinned")).to_be_visible()
        alice.click("#pins summary")
        pin_link = alice.locator("#pins .pin-list a")
        expect(pin_link.locator(".author")).to_have_text(re.compile("alice", re.I))
        expect(pin_link.locator(".excerpt")).to_have_text("hi bob, welcome")
        pin_link.click()
        expect(alice).to_have_url(re.compile(r"\?around=" + root_id + "$"))
        expect(alice.locator("#m-" + root_id)).to_have_class(re.compile(r"\bhighlight\b"))
        alice_root = messages(alice).locator("#m-" + root_id)
        alice_root.hover()
        alice_root.locator("button:has-text('Unpin')").click()
        expect(alice.locator("#pins summary")).to_have_count(0)
        expect(bob.locator("#pins summary")).to_have_count(0, timeout=LIVE)
        expect(bob_root.locator(".pinned")).to_have_count(0)

        # Typing: bob types, alice's typing line names him; clearing the text stops it; a
        # typist who goes quiet expires (the stack's expiry is 2 s here, 15 s by default).
        typing = alice.locator("#typing")
        expect(typing).to_have_text("")
        bob.locator("#composer-body").fill("hel")
        expect(typing).to_have_text("bob is typing…", timeout=LIVE)
        bob.locator("#composer-body").fill("")
        expect(typing).to_have_text("", timeout=LIVE)
        bob.locator("#composer-body").fill("hello?")
        expect(typing).to_have_text("bob is typing…", timeout=LIVE)
        expect(typing).to_have_text("", timeout=5000)
        expect(bob.locator("#typing")).to_have_text("")
        bob.locator("#composer-body").fill("")

        # Slash commands: hints while the text starts with `/`; the reply is shown to bob
        # only; a refused one keeps the text and says why; alice never sees either.
        box = bob.locator("#composer-body")
        hints = bob.locator("#command-hints")
        expect(hints).to_be_hidden()
        box.fill("/he")
        expect(hints).to_be_visible()
        expect(hints.locator("li.match")).to_have_count(1)
        expect(hints.locator("li.match")).to_contain_text("/help [command]")
        box.fill("/help topic")
        box.press("Enter")
        reply = messages(bob).locator("li.ephemeral")
        expect(reply).to_contain_text("Only visible to you", timeout=LIVE)
        expect(reply).to_contain_text("/topic [text]")
        expect(box).to_have_value("")
        expect(hints).to_be_hidden()
        box.fill("/nosuch")
        box.press("Enter")
        expect(messages(bob).locator("li.ephemeral .command-error")).to_contain_text("/nosuch", timeout=LIVE)
        expect(box).to_have_value("/nosuch")
        send(bob, "after the commands")
        expect(messages(alice).locator("li.message", has_text="after the commands")).to_be_visible(timeout=LIVE)
        expect(messages(alice).locator("li.ephemeral")).to_have_count(0)
        check("/help" not in messages(alice).inner_text(), "alice saw bob's command")

        # @ and # completion: the list offers members (arrows move the choice), narrows as
        # bob types, Enter takes one without sending, Tab takes a channel, Esc closes it.
        completion = bob.locator("#completion")
        box.fill("")
        box.press_sequentially("hi @")
        expect(completion.locator("li")).to_have_count(2)
        expect(completion.locator("li").nth(0)).to_have_class("chosen")
        box.press("ArrowDown")
        expect(completion.locator("li").nth(1)).to_have_class("chosen")
        expect(box).to_have_attribute("aria-activedescendant", "completion-1")
        box.press_sequentially("bo")
        expect(completion.locator("li")).to_have_count(1)
        expect(completion.locator("li.chosen .name")).to_have_text("@bob")
        box.press("Enter")
        expect(box).to_have_value("hi @bob ")
        expect(completion).to_be_hidden()
        box.press_sequentially("see #ra")
        expect(completion.locator("li .name")).to_have_text(["#random"])
        box.press("Tab")
        expect(box).to_have_value("hi @bob see #random ")
        box.press_sequentially("@")
        expect(completion).to_be_visible()
        box.press("Escape")
        expect(completion).to_be_hidden()
        box.press("Backspace")
        box.press("Enter")
        expect(messages(alice).locator("li.message", has_text="hi @bob see #random")).to_be_visible(timeout=LIVE)
        expect(box).to_have_value("")

        # Drafts: what bob leaves unsent in #general is back after a reload, and only there;
        # a sent one is not.
        bob.reload()
        expect(box).to_have_value("")
        box.fill("half a thought")
        bob.reload()
        expect(box).to_have_value("half a thought")
        bob.goto(BASE + "/c/acme/random")
        expect(box).to_have_value("")
        bob.goto(BASE + "/c/acme/general")
        expect(box).to_have_value("half a thought")
        box.fill("")

        # Up in the empty composer edits bob's last message; Esc puts it back.
        box.press("ArrowUp")
        editor = messages(bob).locator("textarea[name=body]")
        expect(editor).to_be_focused()
        expect(editor).to_have_value(re.compile(r"^hi @bob see #random\s*$"))
        editor.press("Escape")
        expect(messages(bob).locator("textarea[name=body]")).to_have_count(0)
        expect(messages(bob).locator("li.message", has_text="hi @bob see #random")).to_be_visible()

        # Optimistic sends: held at the network, bob's message shows at once as his own
        # "sending" row; released, it becomes the real message in place, and neither he
        # nor alice ever sees it twice.
        optimistic_sends(alice, bob, general_id)

        # Esc closes the members sheet wherever the focus is.
        bob.click("#members-button")
        expect(bob.locator("#people")).to_be_visible()
        box.focus()
        bob.keyboard.press("Escape")
        expect(bob.locator("#people")).to_be_hidden()

        # Search: Ctrl+K opens the overlay, results come as one types, with the hit marked;
        # a result opens its channel around the message, highlighted.
        alice.goto(BASE + "/c/acme/random")
        expect(alice.locator("#search")).to_be_hidden()
        alice.keyboard.press("Control+k")
        expect(alice.locator("#search-q")).to_be_focused()
        expect(alice.locator("#search .search-hints")).to_contain_text("from:@user")
        alice.keyboard.type("welcome")
        hit = alice.locator("#search-results a", has_text="hi bob, welcome")
        expect(hit).to_be_visible(timeout=5 * LIVE)
        expect(hit.locator("mark")).to_have_text(re.compile("welcome", re.I))
        expect(hit.locator(".where")).to_have_text("#general")
        alice.keyboard.press("Escape")
        expect(alice.locator("#search")).to_be_hidden()
        # The same box is the quick switcher: a channel's name jumps to it.
        alice.keyboard.press("Control+k")
        alice.locator("#search-q").fill("rand")
        jump = alice.locator("#search-results li.place a", has_text="#random")
        expect(jump).to_be_visible(timeout=5 * LIVE)
        expect(jump).to_have_attribute("href", "/c/acme/random")
        expect(alice.locator("#search-results li.place").first).to_contain_text("#random")
        alice.locator("#search-q").fill("welcome")
        expect(hit).to_be_visible(timeout=5 * LIVE)
        alice.keyboard.press("Escape")
        expect(alice.locator("#search")).to_be_hidden()
        alice.click("button.search-button")
        expect(alice.locator("#search-q")).to_be_focused()
        hit.click()
        expect(alice).to_have_url(re.compile(r"/c/acme/general\?around=" + root_id + "$"))
        expect(alice.locator("#m-" + root_id)).to_have_class(re.compile(r"\bhighlight\b"))
        expect(alice.locator(".older a")).to_have_text("Jump to the present")
        alice.click(".older a")
        expect(alice).to_have_url(BASE + "/c/acme/general")

        # A message in another channel: alice's #random badge counts it, opening clears it.
        # Alice has a second tab open on #general; it counts too, and a mention shows as a
        # pill.
        alice2 = alice_context.new_page()
        watch(alice2, "alice's second tab")
        alice2.goto(BASE + "/c/acme/general")
        expect(alice2.locator("#composer-body")).to_be_visible()
        bob.goto(BASE + "/c/acme/random")
        send(bob, "over here @alice")
        badge = alice.locator(f"#badge-{random_id}")
        expect(badge).to_have_text("1", timeout=LIVE)
        expect(alice.locator(f"#ch-{random_id} a")).to_have_class("unread")
        expect(alice.locator(f"#mentions-{random_id}")).to_have_text("@1", timeout=LIVE)
        expect(alice2.locator(f"#badge-{random_id}")).to_have_text("1", timeout=LIVE)
        expect(alice2.locator(f"#mentions-{random_id}")).to_have_text("@1", timeout=LIVE)

        # The mention is in alice's inbox: the bell counts it live, in both tabs; the inbox
        # lists it with a link to the message; "Mark all read" clears it everywhere.
        expect(alice.locator("#notif-count")).to_have_text("1", timeout=LIVE)
        expect(alice2.locator("#notif-count")).to_have_text("1", timeout=LIVE)
        alice.click("#bell")
        unread_item = alice.locator("#inbox-list li.unread")
        expect(unread_item).to_contain_text("mentioned you in #random")
        expect(unread_item.locator("a")).to_have_attribute("href", re.compile(r"^/c/acme/random\?around="))
        alice.click("#inbox button:has-text('Mark all read')")
        expect(alice.locator("#notif-count")).to_have_text("")
        expect(alice.locator("#inbox-list li.unread")).to_have_count(0)
        expect(alice.locator("#inbox-list li.read").first).to_contain_text("mentioned you in #random")
        expect(alice2.locator("#notif-count")).to_have_text("", timeout=LIVE)
        alice.click("#inbox button:has-text('Close')")
        expect(alice.locator("#inbox")).to_be_hidden()

        # Channel preferences follow alice into her other tab without a reload: muting
        # #general from its Preferences menu dims it there and its menu offers to unmute;
        # starring #random puts it first in that sidebar, with a star. Bob sees none of it.
        alice.click("#channel-preferences summary")
        alice.click("#channel-preferences button:has-text('Mute')")
        expect(alice.locator("#channel-preferences button:has-text('Unmute')")).to_have_count(1)
        expect(alice2.locator(f"#ch-{general_id}")).to_have_class("muted", timeout=LIVE)
        expect(alice2.locator("#channel-preferences button:has-text('Unmute')")).to_have_count(1, timeout=LIVE)
        starred = alice.request.patch(f"{BASE}/api/channels/{random_id}/preferences", data={"starred": True})
        check(starred.ok, f"starring #random: {starred.status}")
        expect(alice2.locator("#channels li").first).to_have_id(f"ch-{random_id}", timeout=LIVE)
        expect(alice2.locator(f"#ch-{random_id} .star")).to_have_text("★")
        expect(bob.locator(f"#ch-{random_id}")).not_to_have_class(re.compile(r"starred"))
        expect(bob.locator(f"#ch-{general_id}")).not_to_have_class(re.compile(r"muted"))
        restored = alice.request.patch(
            f"{BASE}/api/channels/{general_id}/preferences", data={"muted_until": None}
        )
        check(restored.ok, f"unmuting #general: {restored.status}")
        unstarred = alice.request.patch(f"{BASE}/api/channels/{random_id}/preferences", data={"starred": False})
        check(unstarred.ok, f"unstarring #random: {unstarred.status}")
        expect(alice2.locator(f"#ch-{general_id}")).not_to_have_class(re.compile(r"muted"), timeout=LIVE)
        expect(alice2.locator("#channels li").first).to_have_id(f"ch-{general_id}", timeout=LIVE)

        # The member list: roles and presence (both pages announced themselves online).
        alice.click("#members-button")
        expect(alice.locator("#people-list li", has_text="@alice")).to_contain_text("Owner")
        bob_entry = alice.locator("#people-list li", has_text="@bob")
        expect(bob_entry.locator(".presence")).to_have_class(re.compile(r"\bonline\b"))
        alice.click("#people button:has-text('Close')")
        expect(alice.locator("#people")).to_be_hidden()

        # A direct message with bob: the sidebar shows his presence dot, online.
        members = alice.request.get(f"{BASE}/api/communities/{community_id}/members").json()["data"]
        bob_id = next(m["user"]["id"] for m in members if m["user"]["username"] == "bob")
        dm = alice.request.post(f"{BASE}/api/dms", data={"user_ids": [bob_id]})
        check(dm.ok, f"opening a DM: {dm.status}")
        dm_id = dm.json()["id"]
        alice.goto(f"{BASE}/dm/{dm_id}")
        expect(alice.locator(f"#ch-{dm_id} .presence")).to_have_class(re.compile(r"\bonline\b"))
        alice.goto(BASE + "/c/acme/general")
        expect(alice.locator("#composer-body")).to_be_visible()
        bob.goto(BASE + "/c/acme/general")
        expect(bob.locator("#composer-body")).to_be_visible()

        # XSS payloads: each shows as text on both pages, none runs.
        for payload in PAYLOADS:
            send(bob, payload)
        last = PAYLOADS[-1]
        expect(messages(alice).locator("li.message", has_text=last[:20])).to_be_visible(timeout=5 * LIVE)
        for page in (alice, bob):
            for link in page.locator("#messages .body a").all():
                href = link.get_attribute("href")
                check(href is None or re.match(r"^(https?:|mailto:)", href), f"a link kept href {href!r}")
                if href is None:
                    link.click()
            for image in page.locator("#messages .body img").all():
                src = image.get_attribute("src")
                check(src is None or re.match(r"^https?:", src), f"an image kept src {src!r}")
            hovered = page.locator("#messages .body a[title]")
            for index in range(hovered.count()):
                hovered.nth(index).hover()
        text = messages(alice).inner_text()
        for shown in ["<script>alert('script')</script>", "<svg onload=alert('svg')>", "raw link"]:
            check(shown in text, f"{shown!r} is shown as text")
        for page, who in ((alice, "alice"), (bob, "bob")):
            check(page.evaluate("window.__xss === undefined"), f"{who}: an injected handler ran")
            check(page.locator("#messages script, #messages iframe, #messages svg").count() == 0, f"{who}: markup survived")

        # Opening #random clears its badge.
        alice.click(f"#ch-{random_id} a")
        expect(alice).to_have_url(BASE + "/c/acme/random")
        expect(alice.locator(f"#badge-{random_id}")).to_have_text("")
        expect(messages(alice).locator("li.message", has_text="over here")).to_be_visible()
        # The visible tab marks it read within a second; the other tab's badges clear.
        expect(alice2.locator(f"#badge-{random_id}")).to_have_text("", timeout=LIVE + 1500)
        expect(alice2.locator(f"#mentions-{random_id}")).to_have_text("")
        alice2.close()

        # The theme: dark at a click, still dark after a reload, back to the system's.
        html = alice.locator("html")
        expect(html).not_to_have_attribute("data-theme", re.compile(".+"))
        with alice.expect_response(lambda response: "/theme?theme=dark" in response.url):
            alice.click(".theme-switch button:has-text('Dark')")
        expect(html).to_have_attribute("data-theme", "dark")
        expect(alice.locator(".theme-switch button:has-text('Dark')")).to_have_attribute("aria-pressed", "true")
        alice.reload()
        expect(html).to_have_attribute("data-theme", "dark")
        expect(alice.locator(".theme-switch button:has-text('Dark')")).to_have_attribute("aria-pressed", "true")
        with alice.expect_response(lambda response: "/theme?theme=system" in response.url):
            alice.click(".theme-switch button:has-text('System')")
        expect(html).not_to_have_attribute("data-theme", re.compile(".+"))
        alice.reload()
        expect(html).not_to_have_attribute("data-theme", re.compile(".+"))

        # Phone width: the sidebar is a drawer behind the menu button.
        alice.set_viewport_size({"width": 390, "height": 844})
        sidebar = alice.locator("nav.sidebar")
        expect(sidebar).not_to_be_in_viewport()
        alice.click("button.menu-button")
        expect(sidebar).to_be_in_viewport()
        alice.click(f"#ch-{random_id} a")
        expect(alice).to_have_url(BASE + "/c/acme/random")
        expect(alice.locator("nav.sidebar")).not_to_be_in_viewport()
        alice.set_viewport_size({"width": 1280, "height": 800})

        # The message list. Alice fills #history with 70 lines (one author, minutes apart at
        # most: grouped); bob has read them; two more come while he is elsewhere, so opening
        # the channel shows the "New" divider before the first of them.
        made = alice.request.post(f"{BASE}/api/communities/{community_id}/channels", data={"name": "history"})
        check(made.status == 201, f"creating #history answered {made.status}: {made.text()}")
        history_id = made.json()["id"]
        check(bob.request.post(f"{BASE}/api/channels/{history_id}/join").ok, "bob joins #history")
        lines = []
        for n in range(70):
            posted = alice.request.post(f"{BASE}/api/channels/{history_id}/messages", data={"body_md": f"line {n:02}"})
            lines.append(posted.json()["id"])
        read = bob.request.post(f"{BASE}/api/channels/{history_id}/read", data={"message_id": lines[-1]})
        check(read.ok, f"bob's read cursor answered {read.status}: {read.text()}")
        for text in ["unread one", "unread two"]:
            posted = alice.request.post(f"{BASE}/api/channels/{history_id}/messages", data={"body_md": text})
            check(posted.status == 201, f"posting to #history answered {posted.status}")
        bob.goto(BASE + "/c/acme/history")
        listed = messages(bob)
        expect(listed.locator("#new-divider")).to_have_text("New")
        expect(listed.locator("#new-divider + li.message")).to_contain_text("unread one")
        expect(listed.locator("#new-divider + li.message")).not_to_have_class(re.compile(r"\bgrouped\b"))
        expect(listed.locator("li.message", has_text="unread two")).to_have_class(re.compile(r"\bgrouped\b"))
        expect(listed.locator("li.message").first).to_contain_text("line 22")
        expect(listed.locator("li.message").first).not_to_have_class(re.compile(r"\bgrouped\b"))
        expect(listed.locator(f"#m-{lines[30]}")).to_have_class(re.compile(r"\bgrouped\b"))
        expect(listed.locator(f"#m-{lines[30]} .author")).to_be_hidden()
        expect(listed.locator(f"#m-{lines[22]} .author")).to_be_visible()
        # A message arriving live is grouped the same way.
        alice.request.post(f"{BASE}/api/channels/{history_id}/messages", data={"body_md": "live three"})
        expect(listed.locator("li.message", has_text="live three")).to_have_class(
            re.compile(r"\bgrouped\b"), timeout=LIVE
        )

        # Scrolled to the top, the older lines load, and what bob was reading stays put.
        expect(listed.locator("li.message", has_text="line 21")).to_have_count(0)
        top_before = bob.evaluate(
            """(id) => {
                const scroller = document.querySelector('.scroller');
                scroller.scrollTop = -scroller.scrollHeight;
                return document.getElementById(id).getBoundingClientRect().top;
            }""",
            "m-" + lines[22],
        )
        expect(listed.locator("#older")).to_have_text("This is the very beginning of #history.", timeout=5 * LIVE)
        expect(listed.locator("li.message", has_text="line 00")).to_have_count(1)
        expect(listed.locator("li.message", has_text="line 21")).to_have_count(1)
        top_after = bob.evaluate("(id) => document.getElementById(id).getBoundingClientRect().top", "m-" + lines[22])
        check(abs(top_after - top_before) < 2, f"loading older lines moved the list by {top_after - top_before} px")

        # Opened around an old line, scrolled to the bottom, the newer lines load (each
        # once, a live one too), and what bob was reading stays put.
        bob.goto(f"{BASE}/c/acme/history?around={lines[5]}")
        expect(listed.locator("#m-" + lines[5])).to_have_class(re.compile(r"\bhighlight\b"))
        expect(listed.locator("#newer")).to_have_count(1)
        expect(listed.locator("li.message", has_text="line 50")).to_have_count(0)
        alice.request.post(f"{BASE}/api/channels/{history_id}/messages", data={"body_md": "live four"})
        expect(listed.locator("li.message", has_text="live four")).to_have_count(1, timeout=LIVE)
        anchor = bob.evaluate(
            """() => {
                const scroller = document.querySelector('.scroller');
                scroller.scrollTop = 0;
                const top = scroller.getBoundingClientRect().top;
                const item = [...document.querySelectorAll('#messages li.message')]
                    .find((li) => li.getBoundingClientRect().bottom > top);
                return [item.id, item.getBoundingClientRect().top];
            }"""
        )
        expect(listed.locator("li.message", has_text="line 69")).to_have_count(1, timeout=5 * LIVE)
        expect(listed.locator("#newer")).to_have_count(0)
        for text in ["line 50", "unread two", "live three", "live four"]:
            expect(listed.locator("li.message", has_text=text)).to_have_count(1)
        moved = bob.evaluate("(id) => document.getElementById(id).getBoundingClientRect().top", anchor[0]) - anchor[1]
        check(abs(moved) < 2, f"loading newer lines moved the list by {moved} px")

        # The thread panel live: with a thread open on both pages, bob's typing in its
        # composer shows in alice's panel and stops when he clears it; alice's edit of the
        # root shows in bob's panel, and its deletion leaves a tombstone and no composer.
        root_posted = alice.request.post(
            f"{BASE}/api/channels/{history_id}/messages", data={"body_md": "a root to change"}
        )
        check(root_posted.status == 201, f"posting a root answered {root_posted.status}")
        live_root = root_posted.json()["id"]
        bob.request.post(
            f"{BASE}/api/channels/{history_id}/messages", data={"body_md": "a reply", "parent_id": live_root}
        )
        for page in (alice, bob):
            page.goto(f"{BASE}/c/acme/history?thread={live_root}")
            expect(page.locator("#replies li.message", has_text="a reply")).to_have_count(1)
        thread_typing = alice.locator("#thread-typing")
        expect(thread_typing).to_have_text("")
        bob.locator("#reply-body").fill("thinking")
        expect(thread_typing).to_have_text("bob is typing…", timeout=LIVE)
        bob.locator("#reply-body").fill("")
        expect(thread_typing).to_have_text("", timeout=LIVE)
        edited_root = alice.request.patch(f"{BASE}/api/messages/{live_root}", data={"body_md": "a root changed"})
        check(edited_root.ok, f"editing the root answered {edited_root.status}: {edited_root.text()}")
        panel_root = bob.locator(f"#thread #tr-{live_root}")
        expect(panel_root.locator(".body")).to_have_text("a root changed", timeout=LIVE)
        expect(panel_root.locator(".edited")).to_have_text("(edited)")
        removed = alice.request.delete(f"{BASE}/api/messages/{live_root}")
        check(removed.ok, f"deleting the root answered {removed.status}")
        expect(panel_root).to_have_text("This message was deleted.", timeout=LIVE)
        expect(bob.locator("#reply-composer")).to_have_count(0)
        expect(bob.locator("#replies li.message", has_text="a reply")).to_have_count(1)

        # Catching up. Bob's tab on #random is hidden while alice posts, then shown again:
        # Datastar closes a hidden tab's stream and reopens it when visible, with the last
        # event id, and every missed line shows once. Then bob's stream is killed for real:
        # web-sm stops (as in a deploy, every tab's stream ends), alice posts while it is
        # down, and it starts again on its address; Datastar (`retry: 'always'`) reconnects
        # with the last event id, and every missed line shows once, in order.
        streams = []
        bob.on(
            "request",
            lambda request: streams.append(request.headers.get("last-event-id"))
            if "/sse?" in request.url
            else None,
        )
        for page in (alice, bob):
            page.goto(BASE + "/c/acme/random")
        send(alice, "before the outage")
        expect(messages(bob).locator("li.message", has_text="before the outage")).to_be_visible(timeout=LIVE)

        def missed(label):
            for n in range(3):
                posted = alice.request.post(
                    f"{BASE}/api/channels/{random_id}/messages", data={"body_md": f"{label} line {n}"}
                )
                check(posted.status == 201, f"posting {label} line {n} answered {posted.status}")

        def caught_up(label, opened):
            expect(messages(bob).locator("li.message", has_text=f"{label} line 2")).to_have_count(1, timeout=20000)
            for n in range(3):
                expect(messages(bob).locator("li.message", has_text=f"{label} line {n}")).to_have_count(1)
            resumed = [last for last in streams[opened:] if last]
            check(resumed, f"after the {label}, the stream reopened with a Last-Event-ID: {streams[opened:]}")

        def visibility(hidden):
            bob.evaluate(
                """(hidden) => {
                    Object.defineProperty(document, 'hidden', { value: hidden, configurable: true });
                    Object.defineProperty(document, 'visibilityState',
                        { value: hidden ? 'hidden' : 'visible', configurable: true });
                    document.dispatchEvent(new Event('visibilitychange'));
                }""",
                hidden,
            )

        opened = len(streams)
        visibility(True)
        missed("hidden")
        visibility(False)
        caught_up("hidden", opened)

        opened = len(streams)
        control("stop")
        missed("killed")
        control("start")
        started = time.monotonic()
        caught_up("killed", opened)
        print(f"caught up after web-sm's restart in {(time.monotonic() - started) * 1000:.0f} ms", flush=True)
        bodies = messages(bob).locator("li.message .body").all_inner_texts()
        at = [next((i for i, body in enumerate(bodies) if body.strip() == f"killed line {n}"), -1) for n in range(3)]
        check(-1 not in at and at == sorted(at), f"the missed lines show in order: {at} in {bodies[-8:]}")
        send(alice, "after the restart")
        expect(messages(bob).locator("li.message", has_text="after the restart")).to_have_count(1, timeout=LIVE)

        # A double-clicked send (Enter twice before the first answer) posts once: the
        # composer's client_msg_id makes the second a repeat.
        box = bob.locator("#composer-body")
        box.fill("said once")
        box.press("Enter")
        box.press("Enter")
        expect(messages(alice).locator("li.message", has_text="said once")).to_have_count(1, timeout=LIVE)
        history = alice.request.get(f"{BASE}/api/channels/{random_id}/messages?limit=50").json()["data"]
        check(
            sum(1 for m in history if m["body_md"] == "said once") == 1,
            "a double send posted exactly one message",
        )

        # A private channel's activity never reaches a non-member's page: bob, on #random
        # with his stream open, gets nothing of alice's private #secret, not even a badge.
        secret = alice.request.post(
            f"{BASE}/api/communities/{community_id}/channels", data={"name": "secret", "kind": "private"}
        )
        check(secret.status == 201, f"creating #secret answered {secret.status}: {secret.text()}")
        secret_id = secret.json()["id"]
        alice.request.post(f"{BASE}/api/channels/{secret_id}/messages", data={"body_md": "private plans"})
        send(alice, "after the secret")
        expect(messages(bob).locator("li.message", has_text="after the secret")).to_be_visible(timeout=LIVE)
        check("private plans" not in bob.content(), "a private channel's text reached a non-member's page")
        check(bob.locator(f"#ch-{secret_id}").count() == 0, "a private channel shows in a non-member's sidebar")

        # Screenshots of the main screen, in a channel of ordinary talk (#general holds the
        # XSS payloads): light and dark, desktop and phone width.
        design = alice.request.post(
            f"{BASE}/api/communities/{community_id}/channels",
            data={"name": "design", "topic": "Mockups, reviews and the new onboarding flow"},
        )
        check(design.status == 201, f"creating #design answered {design.status}: {design.text()}")
        design_id = design.json()["id"]
        joined = bob.request.post(f"{BASE}/api/channels/{design_id}/join")
        check(joined.ok, f"bob joining #design answered {joined.status}")
        talk = [
            (alice, "Morning! The **onboarding** mockups are up for review."),
            (bob, "Looks great. Could the invite step say *who* invited you?"),
            (alice, "Good call, adding it. Here is the current flow:"),
            (bob, "Ship it! `cargo xtask test` is green on my side."),
        ]
        for who, text in talk:
            posted = who.request.post(f"{BASE}/api/channels/{design_id}/messages", data={"body_md": text})
            check(posted.status == 201, f"posting to #design answered {posted.status}: {posted.text()}")
        renamed = alice.request.patch(f"{BASE}/api/communities/{community_id}", data={"name": "Acme"})
        check(renamed.ok, f"renaming the community answered {renamed.status}: {renamed.text()}")
        alice.goto(BASE + "/c/acme/design")
        expect(messages(alice).locator("li.message", has_text="Ship it")).to_be_visible()
        expect(alice.locator("#composer-body")).to_be_visible()
        for scheme in ["light", "dark"]:
            alice.emulate_media(color_scheme=scheme)
            for width, height, form in [(1280, 800, "desktop"), (390, 844, "phone")]:
                alice.set_viewport_size({"width": width, "height": height})
                # At phone width the drawer slides shut first.
                if form == "phone":
                    expect(alice.locator("nav.sidebar")).not_to_be_in_viewport()
                else:
                    expect(alice.locator("nav.sidebar")).to_be_in_viewport()
                alice.screenshot(path=os.path.join(ARTIFACTS, f"channel-{scheme}-{form}.png"))

        check(not dialogs, f"dialogs opened: {dialogs}")
        check(not csp_violations, f"CSP violations: {csp_violations}")
        browser.close()
    if problems:
        print(f"{len(problems)} problem(s)", flush=True)
        sys.exit(1)
    print("browser scenario passed", flush=True)


if __name__ == "__main__":
    main()
