// app.js — ajet-chat's own client module: the little that Datastar's attributes cannot
// express. Loaded from our origin beside Datastar (no inline script, no inline handler);
// it reads only markup the server rendered and the api's JSON answers, and writes text
// with textContent, never HTML.
//
// Both composers — the channel's (`#composer`) and the thread panel's (`#reply-composer`)
// — are one piece (`views::shell::composer`), set up alike from their `data-*`:
// 1. Uploads: files picked with the 📎 button, pasted into the text or dropped
//    on the composer's column go at once to the api's attachment endpoint (`data-upload`) by XHR,
//    the one browser API that reports upload progress. Each is a chip in its `ul.uploads` with
//    its progress and a remove button (which also cancels); a refusal (too large, quota)
//    shows the api's own sentence. An uploaded chip carries the attachment id
//    (`data-id`, `id="up-{id}"`): the composer's send names those ids and the server
//    removes the chips it sent.
// 2. The message lists (`#messages`, the thread's `#replies`): a message that arrives live
//    or with a page of history is grouped under the one above it as the server groups a
//    page (`views::message::grouped_with`: same `data-author`, within five minutes, not
//    after the "New" divider or a tombstone); a message listed twice (a page of newer
//    history reaching what the stream appended) keeps its first copy; and when a page of
//    history lands (its `#older`/`#newer` row replaced), the message the reader was
//    looking at stays where it was on screen.
// 3. The composer's keyboard and drafts: `@` and `#` complete a member's username or a
//    channel's name (read from the api once, when first needed: `data-members`,
//    `data-channels`) — arrows choose, Enter or Tab takes (Enter sends once the one name
//    left is typed out in full), Esc closes; Up in an empty
//    composer edits the viewer's last message in its list (`data-list`); the text is kept
//    per channel or thread (`data-draft`) in
//    localStorage, so a draft survives a reload (and is dropped once sent and left).
// 4. Sends in flight: the moment a message is sent, the composer's list shows it as
//    "Sending…" (`#pending-{cmid}`, cloned from the composer's `template.pending-template`, the text
//    written as text). The server replaces that row with the message (the send's answer
//    or its event, whichever comes first), or marks it failed with the api's reason; a
//    connection that failed (Datastar's `retries-failed`) or an error answer marks it
//    failed here. The composer keeps the text and its `client_msg_id` until a send
//    succeeds, so Retry (the same key: never a duplicate) sends it again and Discard drops
//    it (with a new key, should the first have arrived after all). A row its message's
//    event removed means the message was posted, even if the answer was lost: the
//    composer is emptied then too.

/** Sets up the composer's uploads. */
function setUpUploads(form) {
  const list = form.querySelector('ul.uploads');
  const picker = form.querySelector('input[type=file]');
  const text = form.querySelector('textarea');
  const url = form.dataset.upload;
  if (!list || !picker || !text || !url) return;

  picker.addEventListener('change', () => {
    [...picker.files].forEach(upload);
    picker.value = '';
  });
  // Only a paste that carries files is ours; text pastes as usual.
  text.addEventListener('paste', (evt) => {
    const files = [...(evt.clipboardData?.files ?? [])];
    if (files.length > 0) {
      evt.preventDefault();
      files.forEach(upload);
    }
  });
  const area = form.closest('main, aside') ?? form;
  const carriesFiles = (evt) => [...(evt.dataTransfer?.types ?? [])].includes('Files');
  area.addEventListener('dragover', (evt) => {
    if (!carriesFiles(evt)) return;
    evt.preventDefault();
    area.classList.add('dropping');
  });
  area.addEventListener('dragleave', (evt) => {
    if (!area.contains(evt.relatedTarget)) area.classList.remove('dropping');
  });
  area.addEventListener('drop', (evt) => {
    if (!carriesFiles(evt)) return;
    evt.preventDefault();
    area.classList.remove('dropping');
    [...evt.dataTransfer.files].forEach(upload);
  });

  /** Uploads one file as a new chip. */
  function upload(file) {
    const label = file.name || 'pasted file';
    const chip = element('li', 'upload uploading');
    const name = element('span', 'name', label);
    const progress = element('progress');
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute('aria-label', `Uploading ${label}`);
    const status = element('span', 'status');
    const remove = element('button', 'quiet remove', '✕');
    remove.type = 'button';
    remove.setAttribute('aria-label', `Remove ${label}`);
    chip.append(name, progress, status, remove);
    list.append(chip);

    const xhr = new XMLHttpRequest();
    const fail = (why) => {
      chip.classList.remove('uploading');
      chip.classList.add('failed');
      progress.remove();
      status.textContent = `Not uploaded: ${why}`;
    };
    remove.addEventListener('click', () => {
      xhr.abort();
      chip.remove();
      text.focus();
    });
    xhr.upload.addEventListener('progress', (evt) => {
      if (evt.lengthComputable) progress.value = Math.round((100 * evt.loaded) / evt.total);
    });
    xhr.addEventListener('load', () => {
      let answer = null;
      try {
        answer = JSON.parse(xhr.responseText);
      } catch {
        // Not JSON (a proxy's page): the status says enough.
      }
      if (xhr.status === 201 && typeof answer?.id === 'string') {
        chip.classList.remove('uploading');
        chip.classList.add('done');
        progress.value = 100;
        chip.dataset.id = answer.id;
        chip.id = `up-${answer.id}`;
      } else {
        fail(answer?.error?.message ?? `the server answered ${xhr.status}`);
      }
    });
    xhr.addEventListener('error', () => fail('the connection failed'));
    xhr.open('POST', url);
    const data = new FormData();
    data.append('file', file, label);
    xhr.send(data);
  }
}

/** A new element with a class and text. */
function element(tag, className, text) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text) made.textContent = text;
  return made;
}

/** Consecutive messages by one author within this many seconds are grouped. */
const GROUP_WITHIN_SECS = 5 * 60;

/** Groups, and drops second copies, in one list. */
function regroup(list) {
  const seen = new Set();
  let previous = null;
  for (const item of [...list.children]) {
    if (item.id.startsWith('m-')) {
      if (seen.has(item.id)) {
        item.remove();
        continue;
      }
      seen.add(item.id);
    }
    const author = item.dataset.author;
    if (!author) {
      previous = null;
      continue;
    }
    const gap = Number(item.dataset.at) - Number(previous?.dataset.at);
    const grouped = previous?.dataset.author === author && gap >= 0 && gap < GROUP_WITHIN_SECS;
    if (item.classList.contains('grouped') !== grouped) item.classList.toggle('grouped', grouped);
    previous = item;
  }
}

/** Keeps `list`'s on-screen place across pages of history; returns what to call after
 * each change (with whether a page landed). */
function keepPlace(list) {
  const scroller = list.closest('.scroller');
  if (!scroller) return () => {};
  let anchor = null;
  const remember = () => {
    const top = scroller.getBoundingClientRect().top;
    anchor = null;
    for (const item of list.children) {
      if (!item.id.startsWith('m-')) continue;
      const box = item.getBoundingClientRect();
      if (box.bottom > top) {
        anchor = { item, top: box.top };
        return;
      }
    }
  };
  scroller.addEventListener('scroll', remember, { passive: true });
  remember();
  return (paged) => {
    if (paged && anchor?.item.isConnected) {
      scroller.scrollTop += anchor.item.getBoundingClientRect().top - anchor.top;
    }
    remember();
  };
}

/** Watches one list: regrouped at once and after every change Datastar makes. */
function watchList(list) {
  const settle = keepPlace(list);
  const isPageRow = (node) => node.id === 'older' || node.id === 'newer';
  regroup(list);
  new MutationObserver((records) => {
    const paged = records.some((record) => [...record.removedNodes].some(isPageRow));
    regroup(list);
    settle(paged);
  }).observe(list, { childList: true, subtree: true, attributes: true, attributeFilter: ['class'] });
}

/** Sets up `@`/`#` completion and Up-to-edit on a composer. */
function setUpCompletion(form) {
  const text = form.querySelector('textarea');
  const list = form.querySelector('ul.completion');
  if (!text || !list) return;
  const sources = { '@': form.dataset.members, '#': form.dataset.channels };
  const loaded = {};
  const load = (sigil) => {
    loaded[sigil] ??= fetch(sources[sigil], { headers: { accept: 'application/json' } })
      .then((answer) => (answer.ok ? answer.json() : { data: [] }))
      .then((page) =>
        (page.data ?? [])
          .map((row) =>
            sigil === '@'
              ? { name: row.user?.username, detail: row.user?.display_name ?? '' }
              : { name: row.archived_at ? null : row.name, detail: row.topic ?? '' },
          )
          .filter((option) => option.name),
      )
      .catch(() => []);
    return loaded[sigil];
  };
  let options = [];
  let chosen = 0;
  let token = null;

  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    options = [];
    token = null;
    text.removeAttribute('aria-activedescendant');
  };
  const show = () => {
    list.replaceChildren(
      ...options.map((option, index) => {
        const item = element('li', index === chosen ? 'chosen' : '');
        item.id = `${list.id}-${index}`;
        item.setAttribute('role', 'option');
        item.setAttribute('aria-selected', String(index === chosen));
        item.append(element('span', 'name', token.sigil + option.name), element('span', 'detail', option.detail));
        // mousedown, not click: the text keeps the focus.
        item.addEventListener('mousedown', (evt) => {
          evt.preventDefault();
          chosen = index;
          take();
        });
        return item;
      }),
    );
    list.hidden = false;
    text.setAttribute('aria-activedescendant', `${list.id}-${chosen}`);
  };
  const take = () => {
    const option = options[chosen];
    if (!option || !token) return;
    const before = text.value.slice(0, token.start);
    const inserted = `${token.sigil}${option.name} `;
    text.value = before + inserted + text.value.slice(token.end);
    text.setSelectionRange(before.length + inserted.length, before.length + inserted.length);
    close();
    // Datastar's binding of the text follows input events.
    text.dispatchEvent(new Event('input', { bubbles: true }));
  };
  const update = async () => {
    const caret = text.selectionStart;
    const typed = /(?:^|\s)([@#])([\w.-]*)$/.exec(text.value.slice(0, caret));
    if (!typed || !sources[typed[1]] || text.value.startsWith('/')) return close();
    const found = await load(typed[1]);
    // Typing went on meanwhile: its own update follows.
    if (text.selectionStart !== caret) return;
    const prefix = typed[2].toLowerCase();
    options = found
      .filter((option) => option.name.toLowerCase().startsWith(prefix) || option.detail.toLowerCase().startsWith(prefix))
      .slice(0, 8);
    token = { sigil: typed[1], typed: prefix, start: caret - typed[2].length - 1, end: caret };
    chosen = 0;
    if (options.length === 0) return close();
    show();
  };
  text.addEventListener('input', update);
  text.addEventListener('blur', close);
  // Capture, on the form: these keys are taken before Datastar's Enter-sends sees them.
  form.addEventListener(
    'keydown',
    (evt) => {
      if (evt.target !== text || evt.isComposing) return;
      // A name typed out in full: Enter sends, as if no list were open.
      const complete = options.length === 1 && options[0].name.toLowerCase() === token?.typed;
      if (evt.key === 'Enter' && complete) close();
      if (!list.hidden && options.length > 0) {
        if (evt.key === 'ArrowDown' || evt.key === 'ArrowUp') {
          chosen = (chosen + (evt.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length;
          show();
        } else if ((evt.key === 'Enter' && !evt.shiftKey) || evt.key === 'Tab') {
          take();
        } else if (evt.key === 'Escape') {
          close();
        } else {
          return;
        }
        evt.preventDefault();
        evt.stopPropagation();
        return;
      }
      const plain = !evt.shiftKey && !evt.altKey && !evt.ctrlKey && !evt.metaKey;
      if (evt.key === 'ArrowUp' && plain && text.value === '') {
        const edit = [...document.querySelectorAll(`#${form.dataset.list} li.message .edit-button`)].pop();
        if (!edit) return;
        evt.preventDefault();
        evt.stopPropagation();
        edit.click();
      }
    },
    true,
  );
}

/** Puts `value` in `input` as if typed (Datastar follows input events). */
function set(input, value) {
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

/** Keeps a composer's text across reloads in localStorage, per viewer and channel or
 * thread (`data-draft`). */
function keepDraft(form) {
  const text = form.querySelector('textarea');
  const cmid = form.querySelector('input[type=hidden][data-bind]');
  let store = null;
  try {
    store = window.localStorage;
  } catch {
    return; // Storage is off: no drafts.
  }
  if (!text || !store || !form.dataset.draft) return;
  const key = `ajet-draft:${form.dataset.draft}`;
  // A send still in flight when the page is left (its row says "Sending…") is kept with
  // its key: the browser may have cancelled it before or after the api took it. While the
  // composer holds that text unchanged, the key stays with it.
  let resumed = null;
  // After Datastar has bound the text to its (empty) signal: Datastar applies the page's
  // attributes in a timer it set as it loaded, before this one.
  setTimeout(() => {
    const saved = store.getItem(key);
    if (!saved || text.value) return;
    let draft = { text: saved };
    if (saved.startsWith('{')) {
      try {
        const parsed = JSON.parse(saved);
        if (parsed?.v === 1 && typeof parsed.text === 'string') draft = parsed;
      } catch {
        // A plain draft that starts with a brace.
      }
    }
    const keyed = cmid && typeof draft.key === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(draft.key);
    if (keyed) {
      resumed = draft;
      set(cmid, draft.key);
    }
    set(text, draft.text);
    // Sent again with the same key: the api answers with the message if it took it before,
    // so the send goes on exactly once. Only soon after, and only a send without files (the
    // draft does not keep them): otherwise it stays a draft under its key, to send or not.
    if (keyed && !draft.files && Date.now() - (draft.at ?? 0) < RESUME_SENDS_WITHIN_MS) form.requestSubmit();
  }, 0);
  /** The key of the composer's send in flight, if there is one. */
  const inFlight = () => {
    const row = cmid && document.getElementById(`pending-${cmid.value}`);
    return row && !row.querySelector('.send-status.failed') ? cmid.value : null;
  };
  const save = () => {
    const value = text.value;
    if (resumed && value !== resumed.text) {
      // A resumed text that changed is another message: it gets a key of its own.
      if (cmid.value === resumed.key && window.crypto?.randomUUID) set(cmid, window.crypto.randomUUID());
      resumed = null;
    }
    if (!value.trim()) {
      store.removeItem(key);
      return;
    }
    const sending = inFlight() ?? resumed?.key;
    if (!sending) {
      store.setItem(key, value.startsWith('{') ? JSON.stringify({ v: 1, text: value }) : value);
      return;
    }
    const files = Boolean(form.querySelector('ul.uploads li[data-id]')) || Boolean(resumed?.files);
    store.setItem(key, JSON.stringify({ v: 1, text: value, key: sending, at: resumed?.at ?? Date.now(), files }));
  };
  text.addEventListener('input', save);
  // A send empties the text without an input event: leaving the page saves what is left.
  window.addEventListener('pagehide', save);
  document.addEventListener('visibilitychange', save);
}

/** How long after leaving a page a send it left in flight is resumed on coming back. */
const RESUME_SENDS_WITHIN_MS = 10 * 60 * 1000;

/** Whether a composer's text runs a slash command (the server's test: `/` and a letter). */
const isCommand = (value) => /^\s*\/\p{L}/u.test(value);

/** Shows a composer's sends in flight in its list (`data-list`: `#messages`, `#replies`). */
function showSends(form) {
  const listId = form.dataset.list;
  const text = form.querySelector('textarea');
  const cmid = form.querySelector('input[type=hidden][data-bind]');
  const template = form.querySelector('template.pending-template');
  const commands = form.dataset.commands === 'true';
  if (!text || !cmid || !template) return;
  const list = () => document.getElementById(listId);
  const rowOf = (key) => document.getElementById(`pending-${key}`);
  /** The status line of the row of `key`: sending, or failed with `reason`. */
  const status = (row, key, reason) => {
    const line = element('div', reason ? 'send-status failed' : 'send-status');
    line.id = `send-${key}`;
    if (reason) {
      line.setAttribute('role', 'alert');
      const retry = element('button', 'quiet retry', 'Retry');
      const discard = element('button', 'quiet discard', 'Discard');
      retry.type = 'button';
      discard.type = 'button';
      line.append(element('span', 'reason', `Not sent — ${reason}`), ' ', retry, ' ', discard);
    } else {
      line.setAttribute('role', 'status');
      line.textContent = 'Sending…';
    }
    row.querySelector('.send-status')?.replaceWith(line);
  };
  /** Shows the composer's text as being sent (a repeat reuses its row). */
  const sending = () => {
    const body = text.value.trim();
    const key = cmid.value;
    const target = list();
    if (!body || (commands && isCommand(body)) || !/^[A-Za-z0-9-]{1,64}$/.test(key) || !target) return;
    if (form.querySelector('ul.uploads .uploading')) return;
    let row = rowOf(key);
    if (!row) {
      row = template.content.firstElementChild.cloneNode(true);
      row.id = `pending-${key}`;
      row.dataset.at = String(Math.floor(Date.now() / 1000));
      target.append(row);
      row.scrollIntoView({ block: 'nearest' });
    }
    row.dataset.cmid = key;
    row.querySelector('.body').textContent = body;
    status(row, key, null);
  };
  // Capture: before Datastar's own handlers send (and after completion took its keys).
  form.addEventListener(
    'keydown',
    (evt) => {
      if (evt.target !== text || evt.key !== 'Enter' || evt.shiftKey || evt.isComposing) return;
      if (!evt.defaultPrevented) sending();
    },
    true,
  );
  form.addEventListener('submit', sending, true);
  // A send whose requests all ended without the server answering for its row (the
  // connection failed, or an error status, which Datastar drops): the row says so.
  let inFlight = 0;
  let lost = false;
  document.addEventListener('datastar-fetch', (evt) => {
    const { type, el } = evt.detail ?? {};
    if (!el || !form.contains(el)) return;
    if (type === 'started') {
      inFlight += 1;
      lost = false;
    } else if (type === 'retries-failed') {
      lost = true;
    } else if (type === 'finished') {
      inFlight = Math.max(0, inFlight - 1);
      const row = rowOf(cmid.value);
      if (inFlight === 0 && row && !row.querySelector('.send-status.failed')) {
        status(row, cmid.value, lost ? 'the connection failed.' : 'the server did not take it; try again.');
      }
    }
  });
  /** A new key for the composer's next send (the server gives one after each send it answers). */
  const renew = () => {
    if (window.crypto?.randomUUID) set(cmid, window.crypto.randomUUID());
  };
  // The row of the composer's current send went away without Discard: the message itself
  // arrived (its event removes the row), even if the send's answer was lost — the text is
  // sent, so the composer is emptied for the next one.
  const target = list();
  if (target) {
    new MutationObserver((records) => {
      for (const record of records) {
        for (const gone of record.removedNodes) {
          if (gone.classList?.contains('pending') && !gone.dataset.discarded && gone.dataset.cmid === cmid.value) {
            set(text, '');
            renew();
          }
        }
      }
    }).observe(target, { childList: true });
  }
  document.addEventListener('click', (evt) => {
    const button = evt.target.closest?.('.send-status.failed button');
    const row = button?.closest('li.pending');
    if (!row || !list()?.contains(row)) return;
    const key = row.dataset.cmid;
    if (button.classList.contains('retry')) {
      // The composer holds this send's text and key unless it was discarded meanwhile.
      if (cmid.value !== key) {
        set(cmid, key);
        set(text, row.querySelector('.body').textContent);
      }
      form.requestSubmit();
    } else if (button.classList.contains('discard')) {
      row.dataset.discarded = 'true';
      row.remove();
      if (cmid.value === key) {
        set(text, '');
        renew();
      }
      text.focus();
    }
  });
}

// The channel's composer and the thread panel's: one piece serving both.
for (const id of ['composer', 'reply-composer']) {
  const form = document.getElementById(id);
  if (!form) continue;
  setUpUploads(form);
  setUpCompletion(form);
  keepDraft(form);
  showSends(form);
}
for (const id of ['messages', 'replies']) {
  const list = document.getElementById(id);
  if (list) watchList(list);
}
