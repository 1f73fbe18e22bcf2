// Settings → Webhooks: a thin client of the admin API. Every value is rendered with textContent, never HTML.
(function () {
  'use strict';
  const EVENTS = ['secret.created', 'secret.updated', 'secret.deleted', 'vault.created', 'vault.updated', 'vault.deleted', 'member.added', 'member.removed'];
  const WEBHOOKS_PER_PAGE = 10;
  const DELIVERIES_PER_PAGE = 20;
  const RECOVER_POLL_MS = 1000;
  const DEFAULT_RECOVER_DAYS = 3;
  const F = window.CloudKeepFormat;
  const $ = (id) => document.getElementById(id);
  let apiKey = sessionStorage.getItem('cloudkeep.apiKey') || '';

  // Cursor paging: cursors[i] opens page i (null for the first); next is the page after the current one.
  const webhookPages = { cursors: [null], index: 0, next: null };
  const logPages = { cursors: [null], index: 0, next: null };
  let logWebhook = null;

  // ---- small DOM helpers
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach((k) => {
      const v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === 'text') node.textContent = v;
      else if (k === 'onclick') node.addEventListener('click', v);
      else node.setAttribute(k, v === true ? '' : v);
    });
    (children || []).forEach((c) => node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c));
    return node;
  }

  function show(text, isError, action) {
    const m = $('message');
    m.hidden = false;
    m.className = isError ? 'error' : '';
    $('message-text').textContent = text;
    const old = m.querySelector('button');
    if (old) old.remove();
    if (action) m.appendChild(el('button', { type: 'button', text: action.label, onclick: action.onclick, 'data-focus-key': action.focusKey }));
  }
  function fail(err) { show(err.message, true); }

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: Object.assign({ Authorization: 'Bearer ' + apiKey }, body ? { 'Content-Type': 'application/json' } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) {
      const detail = data && data.errors && data.errors.length ? data.errors.map((e) => e.field + ': ' + e.message).join('; ') : (data && data.detail) || res.statusText;
      throw new Error(detail);
    }
    return data;
  }

  function badge(status) { return el('span', { class: 'badge status-' + status, text: F.statusLabel(status) }); }

  // ---- dialogs: modal (the rest of the page is inert), Tab kept inside, focus back where it came from
  const openers = new Map();
  function openDialog(dialog, opener) {
    openers.set(dialog, { node: opener || document.activeElement, key: opener && opener.getAttribute ? opener.getAttribute('data-focus-key') : null });
    if (!dialog.open) dialog.showModal();
    const first = focusables(dialog)[0];
    if (first && !dialog.contains(document.activeElement)) first.focus();
  }
  function closeDialog(dialog) {
    if (dialog.open) dialog.close();
    restoreFocus(dialog); // now, not when the close event comes: the next step may open another dialog
  }
  function restoreFocus(dialog) {
    const from = openers.get(dialog);
    openers.delete(dialog);
    if (!from) return;
    // The list may have been redrawn meanwhile: find the same control again by its key.
    let target = from.node && document.contains(from.node) ? from.node : null;
    if (!target && from.key) target = document.querySelector('[data-focus-key="' + CSS.escape(from.key) + '"]');
    (target || $('webhooks-title')).focus();
  }
  function focusables(root) {
    return Array.prototype.filter.call(
      root.querySelectorAll('a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])'),
      (n) => !n.disabled && !n.closest('[hidden]') && n.getClientRects().length > 0,
    );
  }
  document.querySelectorAll('dialog').forEach((dialog) => {
    dialog.addEventListener('keydown', (e) => {
      if (e.key !== 'Tab') return;
      const list = focusables(dialog);
      if (!list.length) return;
      const first = list[0];
      const last = list[list.length - 1];
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
    });
    dialog.addEventListener('close', () => restoreFocus(dialog)); // Escape closes natively
  });
  $('webhooks-title').setAttribute('tabindex', '-1');

  function confirmAction(title, text, okLabel, opener) {
    return new Promise((resolve) => {
      const dialog = $('confirm-dialog');
      $('confirm-title').textContent = title;
      $('confirm-text').textContent = text;
      $('confirm-ok').textContent = okLabel;
      let answer = false;
      const ok = () => { answer = true; closeDialog(dialog); };
      const cancel = () => closeDialog(dialog);
      $('confirm-ok').addEventListener('click', ok);
      $('confirm-cancel').addEventListener('click', cancel);
      dialog.addEventListener('close', function done() {
        dialog.removeEventListener('close', done);
        $('confirm-ok').removeEventListener('click', ok);
        $('confirm-cancel').removeEventListener('click', cancel);
        resolve(answer);
      });
      openDialog(dialog, opener);
      $('confirm-cancel').focus(); // the safe choice has the focus
    });
  }

  // ---- the webhook list
  let webhooksLoad = 0;
  async function loadWebhooks() {
    const load = ++webhooksLoad; // a later reload wins over a slower earlier one
    const cursor = webhookPages.cursors[webhookPages.index];
    const page = await api('GET', '/v1/webhooks?limit=' + WEBHOOKS_PER_PAGE + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
    if (load !== webhooksLoad) return;
    if (!page.data.length && webhookPages.index > 0) { // the last one on this page was deleted
      webhookPages.cursors.pop();
      webhookPages.index--;
      return loadWebhooks();
    }
    // The list has no health; each webhook's own read asks its health workflow (in parallel, one page only).
    const detailed = await Promise.all(page.data.map((w) => api('GET', '/v1/webhooks/' + w.id).catch(() => Object.assign({ health: null }, w))));
    if (load !== webhooksLoad) return;
    webhookPages.next = page.nextCursor;
    const list = $('webhooks');
    redraw(list, () => detailed.forEach((w) => list.appendChild(webhookItem(w))));
    $('empty').hidden = detailed.length > 0 || webhookPages.index > 0;
    pager('webhooks', webhookPages);
  }

  /** Replaces a container's content, keeping the keyboard focus on the same control when it is redrawn. */
  function redraw(container, fill) {
    const active = document.activeElement;
    const key = active && container.contains(active) ? active.getAttribute('data-focus-key') : null;
    container.textContent = '';
    fill();
    const again = key && container.querySelector('[data-focus-key="' + CSS.escape(key) + '"]');
    if (again) again.focus();
    else if (key) $('webhooks-title').focus();
  }

  function pager(prefix, state) {
    $(prefix + '-prev').disabled = state.index === 0;
    $(prefix + '-next').disabled = !state.next;
    $(prefix + '-page').textContent = 'Page ' + (state.index + 1);
  }

  function webhookItem(w) {
    const health = F.health(w);
    const target = w.destination === 'slack' && w.slackChannel ? 'Slack ' + w.slackChannel : { generic: 'Generic', slack: 'Slack', discord: 'Discord' }[w.destination];
    const meta = [
      target,
      F.plural(w.events.length, 'event', 'events') + ': ' + w.events.join(', '),
      w.vaultIds ? 'Vaults: ' + w.vaultIds.join(', ') : 'All vaults',
    ];
    if (w.destination === 'generic') meta.push(w.standardWebhooks ? 'CloudKeep + Standard Webhooks signatures' : 'CloudKeep signature');
    if (F.rateLimit(w.rateLimit)) meta.push(F.rateLimit(w.rateLimit));
    return el('li', { class: 'webhook', 'data-webhook': w.id }, [
      el('div', { class: 'webhook-head' }, [
        el('h3', { class: 'webhook-url', text: w.url }),
        badge(w.status),
      ]),
      w.description ? el('p', { class: 'description', text: w.description }) : document.createTextNode(''),
      el('p', { class: 'meta', text: meta.join(' · ') }),
      el('p', { class: 'health health-' + health.tone }, [
        el('span', { class: 'health-text', text: health.text }),
        health.detail ? el('span', { class: 'health-detail', text: ' · Last error: ' + health.detail }) : document.createTextNode(''),
      ]),
      el('div', { class: 'actions', role: 'group', 'aria-label': 'Actions for ' + w.url }, actions(w)),
    ]);
  }

  function actionButton(w, key, label, onclick, cls) {
    return el('button', { type: 'button', class: cls, text: label, 'data-focus-key': w.id + ':' + key, onclick });
  }

  function actions(w) {
    const list = [];
    if (w.status === 'disabled') list.push(actionButton(w, 'enable', 'Enable', (e) => enable(w, e.currentTarget)));
    else list.push(actionButton(w, 'test', 'Test', () => run(api('POST', '/v1/webhooks/' + w.id + '/test'), 'Ping sent to ' + w.url)));
    list.push(actionButton(w, 'log', 'Delivery Log', () => openLog(w).catch(fail), 'secondary'));
    list.push(actionButton(w, 'edit', 'Edit', (e) => openEditor(w, e.currentTarget), 'secondary'));
    if (w.destination === 'generic') list.push(actionButton(w, 'rotate', 'Rotate secret', (e) => rotate(w, e.currentTarget), 'secondary'));
    if (w.status === 'active' || w.status === 'pending') list.push(actionButton(w, 'recover', 'Recover', (e) => openRecover(w, null, e.currentTarget), 'secondary'));
    list.push(actionButton(w, 'delete', 'Delete', async (e) => {
      if (await confirmAction('Delete webhook', 'Delete the webhook to ' + w.url + '? Deliveries waiting for a retry are stopped.', 'Delete', e.currentTarget)) {
        run(api('DELETE', '/v1/webhooks/' + w.id), 'Deleted the webhook to ' + w.url);
        if (logWebhook && logWebhook.id === w.id) closeLog();
      }
    }, 'danger'));
    return list;
  }

  function run(promise, success) {
    return promise.then(() => { show(success); return loadWebhooks(); }).catch(fail);
  }

  async function enable(w, opener) {
    try {
      const answer = await api('POST', '/v1/webhooks/' + w.id + '/enable');
      const recoverable = answer.recoverable;
      let text = 'Re-enabled ' + w.url + ': a ping checks the endpoint.';
      let action;
      if (recoverable && recoverable.count > 0) {
        text += ' ' + F.plural(recoverable.count, 'delivery', 'deliveries') + ' since ' + F.utc(recoverable.since) + ' can be recovered.';
        action = { label: 'Recover…', focusKey: w.id + ':recover', onclick: (e) => openRecover(answer, recoverable.since, e.currentTarget) };
      } else if (recoverable) {
        text += ' Nothing was missed since ' + F.utc(recoverable.since) + '.';
      }
      await loadWebhooks();
      show(text, false, action);
      // Enable is replaced by Test once enabled: keep the keyboard user in the same row.
      if (opener && !document.contains(opener)) {
        const again = document.querySelector('[data-focus-key="' + CSS.escape(w.id + ':test') + '"]');
        if (again) again.focus();
      }
    } catch (err) {
      fail(err);
    }
  }

  async function rotate(w, opener) {
    if (!(await confirmAction('Rotate signing secret', 'Replace the secret of ' + w.url + '? The old one stops working at once: update your endpoint with the new one.', 'Rotate secret', opener))) return;
    try {
      const answer = await api('POST', '/v1/webhooks/' + w.id + '/rotate-secret', {});
      showSecret(answer.secret, opener);
      show('New secret for ' + w.url + ': it signs every delivery from now on.');
    } catch (err) {
      fail(err);
    }
  }

  // ---- the secret, shown once
  function showSecret(secret, opener) {
    $('secret-value').textContent = secret;
    $('copy-status').textContent = '';
    openDialog($('secret-dialog'), opener);
    $('copy-secret').focus();
  }
  $('copy-secret').addEventListener('click', async () => {
    const secret = $('secret-value').textContent;
    try {
      await navigator.clipboard.writeText(secret);
    } catch {
      // No clipboard permission: select it so Ctrl+C works.
      const range = document.createRange();
      range.selectNodeContents($('secret-value'));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      $('copy-status').textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
      return;
    }
    $('copy-status').textContent = 'Copied to the clipboard.';
  });
  function forgetSecret() { $('secret-value').textContent = ''; }
  // Cleared before closing, not only on the close event: that event comes a task later, and the secret must be gone
  // from the page by the time focus is back on the list. The listener covers Escape.
  $('close-secret').addEventListener('click', () => { forgetSecret(); closeDialog($('secret-dialog')); });
  $('secret-dialog').addEventListener('close', forgetSecret);

  // ---- Add / Edit
  let editing = null; // the webhook being edited, or null when adding

  function destination() { return document.querySelector('input[name=destination]:checked').value; }

  function openEditor(w, opener) {
    editing = w || null;
    $('webhook-form').reset();
    $('editor-error').hidden = true;
    $('editor-title').textContent = w ? 'Edit Webhook' : 'Add Webhook';
    document.querySelectorAll('input[name=destination]').forEach((r) => {
      r.disabled = !!w;
      if (w) r.checked = r.value === w.destination;
    });
    if (w) {
      $('url').value = w.destination === 'generic' ? w.url : '';
      document.querySelectorAll('#events input').forEach((i) => { i.checked = w.events.indexOf(i.value) >= 0; });
      $('vault-ids').value = w.vaultIds ? w.vaultIds.join(', ') : '';
      $('description').value = w.description || '';
      $('standard-webhooks').checked = !!w.standardWebhooks;
      $('rate-limit').value = w.rateLimit === null || w.rateLimit === undefined ? '' : String(w.rateLimit);
    }
    syncDestination();
    openDialog($('editor-dialog'), opener || $('add-webhook'));
  }

  function syncDestination() {
    const kind = destination();
    const slack = kind === 'slack';
    $('connect-slack').hidden = !slack || !!editing;
    $('secret-field').hidden = kind !== 'generic' || !!editing;
    $('signature').hidden = kind !== 'generic';
    const hints = {
      generic: 'Where CloudKeep POSTs each event (https in production).',
      slack: editing ? 'Paste a new incoming-webhook URL to replace the stored one; empty keeps it.' : 'Paste an incoming-webhook URL, or use Connect to Slack to pick a channel on Slack’s screen.',
      discord: editing ? 'Paste a new Discord webhook URL to replace the stored one; empty keeps it.' : 'The channel’s Discord webhook URL (Integrations → Webhooks → Copy Webhook URL).',
    };
    $('url-hint').textContent = hints[kind];
    $('url').placeholder = editing && kind !== 'generic' ? 'Unchanged: ' + editing.url : kind === 'generic' ? 'https://example.com/hooks/cloudkeep' : '';
  }

  function chosenEvents() {
    return Array.prototype.map.call(document.querySelectorAll('#events input:checked'), (i) => i.value);
  }

  function sameList(a, b) { return (a || []).join('\n') === (b || []).join('\n'); }

  function editorBody() {
    const url = $('url').value.trim();
    const description = $('description').value.trim();
    const vaultIds = F.vaultIds($('vault-ids').value);
    const standardWebhooks = $('standard-webhooks').checked;
    const rateLimit = F.rateLimitInput($('rate-limit').value);
    if (!editing) {
      const body = { url, destination: destination(), events: chosenEvents() };
      if (description) body.description = description;
      if (vaultIds) body.vaultIds = vaultIds;
      if (destination() === 'generic' && $('secret').value) body.secret = $('secret').value;
      if (destination() === 'generic' && standardWebhooks) body.standardWebhooks = true;
      if (rateLimit !== null) body.rateLimit = rateLimit;
      return body;
    }
    // PATCH only what changed: an untouched redacted Slack/Discord URL is kept as stored.
    const w = editing;
    const body = {};
    if (url && url !== w.url) body.url = url;
    if (!sameList(chosenEvents(), w.events)) body.events = chosenEvents();
    if ((description || null) !== (w.description || null)) body.description = description || null;
    if (!sameList(vaultIds, w.vaultIds)) body.vaultIds = vaultIds;
    if (w.destination === 'generic' && standardWebhooks !== !!w.standardWebhooks) body.standardWebhooks = standardWebhooks;
    if (rateLimit !== (w.rateLimit === undefined ? null : w.rateLimit)) body.rateLimit = rateLimit;
    return body;
  }

  async function save(event) {
    event.preventDefault();
    $('editor-error').hidden = true;
    const body = editorBody();
    if (editing) {
      if (!Object.keys(body).length) { closeDialog($('editor-dialog')); show('Nothing changed.'); return; }
      await api('PATCH', '/v1/webhooks/' + editing.id, body);
      closeDialog($('editor-dialog'));
      show('Saved.' + (body.url ? ' CloudKeep sent a ping to verify the new URL.' : ''));
      await loadWebhooks();
      return;
    }
    const created = await api('POST', '/v1/webhooks', body);
    closeDialog($('editor-dialog'));
    show('Saved. CloudKeep sent a ping to verify the endpoint.');
    webhookPages.cursors = [null];
    webhookPages.index = 0;
    await loadWebhooks();
    if (created.secret) showSecret(created.secret, $('add-webhook'));
  }

  async function connectSlack() {
    const body = { events: chosenEvents() };
    if ($('description').value.trim()) body.description = $('description').value.trim();
    const vaultIds = F.vaultIds($('vault-ids').value);
    if (vaultIds) body.vaultIds = vaultIds;
    const res = await api('POST', '/v1/integrations/slack/authorize', body);
    window.location.assign(res.authorizeUrl);
  }

  function editorFail(err) {
    $('editor-error').hidden = false;
    $('editor-error').textContent = err.message;
  }

  // ---- the Delivery Log
  async function openLog(w) {
    if (!logWebhook || logWebhook.id !== w.id) {
      logPages.cursors = [null];
      logPages.index = 0;
      $('filter-status').value = '';
      $('filter-event').value = '';
    }
    logWebhook = w;
    $('log').hidden = false;
    $('log-webhook').textContent = '· ' + w.url;
    await loadDeliveries();
    $('log-title').focus();
  }

  function closeLog() {
    $('log').hidden = true;
    logWebhook = null;
  }

  let deliveriesLoad = 0;
  async function loadDeliveries() {
    const w = logWebhook;
    const load = ++deliveriesLoad; // filters change faster than answers come: only the latest request draws
    const q = new URLSearchParams({ limit: String(DELIVERIES_PER_PAGE) });
    if ($('filter-status').value) q.set('status', $('filter-status').value);
    if ($('filter-event').value) q.set('event', $('filter-event').value);
    const cursor = logPages.cursors[logPages.index];
    if (cursor) q.set('cursor', cursor);
    const page = await api('GET', '/v1/webhooks/' + w.id + '/deliveries?' + q.toString());
    if (load !== deliveriesLoad) return;
    logPages.next = page.nextCursor;
    const tbody = $('deliveries').querySelector('tbody');
    redraw(tbody, () => page.data.forEach((d) => tbody.appendChild(deliveryRow(d))));
    $('log-empty').hidden = page.data.length > 0;
    pager('deliveries', logPages);
  }

  function cell(label, children) { return el('td', { 'data-label': label }, children); }

  function deliveryRow(d) {
    const last = d.status === 'skipped' ? 'Not sent: the webhook was not active' : d.stalled ? F.stalled(d.stalled) : d.pacedUntil ? F.paced(d.pacedUntil) : F.outcome(d.lastResponseStatus, d.lastError);
    return el('tr', { 'data-delivery': d.id }, [
      cell('When', [el('time', { datetime: d.createdAt, text: F.utc(d.createdAt) })]),
      cell('Event', [d.event]),
      cell('Status', [badge(d.status)]),
      cell('Attempts', [String(d.attemptCount)]),
      cell('Last response', [last]),
      cell('Actions', [
        el('div', { class: 'actions' }, [
          el('button', { type: 'button', class: 'secondary', text: 'Details', 'data-focus-key': d.id + ':details', 'aria-label': 'Details of ' + d.event + ' ' + d.id, onclick: (e) => openDetail(d.id, e.currentTarget).catch(fail) }),
          el('button', { type: 'button', text: 'Redeliver', 'data-focus-key': d.id + ':redeliver', 'aria-label': 'Redeliver ' + d.event + ' ' + d.id, onclick: () => redeliver(d.id).catch(fail) }),
          el('a', { href: d.temporalUrl, target: '_blank', rel: 'noopener', class: 'temporal-link', text: 'Temporal UI', 'aria-label': 'Delivery ' + d.id + ' in Temporal UI' }),
        ]),
      ]),
    ]);
  }

  async function redeliver(deliveryId) {
    await api('POST', '/v1/deliveries/' + deliveryId + '/redeliver');
    show('Redelivery of ' + deliveryId + ' requested.');
    await loadDeliveries();
  }

  async function openDetail(deliveryId, opener) {
    const d = await api('GET', '/v1/deliveries/' + deliveryId);
    renderDetail(d);
    openDialog($('detail-dialog'), opener);
    $('close-detail').focus();
  }

  function renderDetail(d) {
    $('detail-title').textContent = 'Delivery ' + d.id;
    $('detail-redeliver').setAttribute('data-delivery', d.id);
    $('detail-temporal').href = d.temporalUrl;
    const summary = $('detail-summary');
    summary.textContent = '';
    [['Event', d.event + ' · ' + d.eventId], ['Status', badge(d.status)], ['Delayed', d.stalled ? F.stalled(d.stalled) : null], ['Created', F.utc(d.createdAt)], ['Attempts', String(d.attemptCount)],
      ['Next attempt', d.pacedUntil ? F.paced(d.pacedUntil) + ' (rate limit)' : d.nextAttemptAt ? F.utc(d.nextAttemptAt) : null], ['Completed', d.completedAt ? F.utc(d.completedAt) : null]]
      .filter((p) => p[1] !== null)
      .forEach((p) => { summary.appendChild(el('dt', { text: p[0] })); summary.appendChild(el('dd', {}, [p[1]])); });
    const box = $('detail-attempts');
    box.textContent = '';
    if (!d.attempts.length) {
      box.appendChild(el('p', { class: 'hint', text: d.status === 'skipped' ? 'No request was sent: the webhook was not active when this event happened. Recover or Redeliver sends it.' : 'No attempt yet.' }));
      return;
    }
    d.attempts.slice().reverse().forEach((a) => box.appendChild(attemptArticle(a)));
  }

  function attemptArticle(a) {
    const headers = Object.keys(a.request.headers).map((k) => k + ': ' + a.request.headers[k]).join('\n');
    const result = a.succeeded ? 'Succeeded' : 'Failed';
    return el('article', { class: 'attempt ' + (a.succeeded ? 'attempt-ok' : 'attempt-failed'), 'data-attempt': String(a.number) }, [
      el('h3', { text: 'Attempt ' + a.number + ' · ' + (a.trigger === 'manual' ? 'manual (Redeliver)' : 'scheduled') + ' · ' + F.utc(a.attemptedAt) }),
      el('dl', { class: 'summary' }, [
        el('dt', { text: 'Result' }), el('dd', { class: 'attempt-result', text: result + ' · ' + F.outcome(a.response.status, null) }),
        el('dt', { text: 'Duration' }), el('dd', { class: 'attempt-duration', text: F.duration(a.durationMs) }),
        el('dt', { text: 'Error' }), el('dd', { class: 'attempt-error', text: a.error || '—' }),
        el('dt', { text: 'URL' }), el('dd', { class: 'attempt-url', text: a.request.url }),
      ]),
      el('h4', { text: 'Request headers' }), el('pre', { class: 'request-headers', tabindex: '0', text: headers }),
      el('h4', { text: 'Request body' }), el('pre', { class: 'request-body', tabindex: '0', text: a.request.body }),
      el('h4', { text: 'Response body (excerpt)' }), el('pre', { class: 'response-body', tabindex: '0', text: a.response.body || '(empty)' }),
    ]);
  }

  $('detail-redeliver').addEventListener('click', async () => {
    const id = $('detail-redeliver').getAttribute('data-delivery');
    try {
      await api('POST', '/v1/deliveries/' + id + '/redeliver');
      show('Redelivery of ' + id + ' requested.');
      renderDetail(await api('GET', '/v1/deliveries/' + id));
      if (logWebhook) await loadDeliveries();
    } catch (err) {
      fail(err);
    }
  });
  $('close-detail').addEventListener('click', () => closeDialog($('detail-dialog')));

  // ---- Recover
  let recovering = null; // { webhook, timer, pollFor }

  function recoverStatuses() {
    return Array.prototype.map.call(document.querySelectorAll('input[name=recover-status]:checked'), (i) => i.value);
  }

  function openRecover(w, since, opener) {
    stopRecoverPoll();
    recovering = { webhook: w, timer: null };
    $('recover-form').reset();
    $('recover-target').textContent = 'Sends again, oldest first, what ' + w.url + ' missed.';
    $('recover-since').value = F.isoToLocalInput(since || new Date(Date.now() - DEFAULT_RECOVER_DAYS * 86400000).toISOString());
    $('recover-progress').hidden = true;
    $('recover-submit').hidden = false;
    $('recover-error').hidden = true;
    $('recover-since').disabled = false;
    document.querySelectorAll('input[name=recover-status]').forEach((i) => { i.disabled = false; });
    openDialog($('recover-dialog'), opener);
    return countRecoverable();
  }

  async function countRecoverable() {
    const w = recovering && recovering.webhook;
    if (!w) return;
    const since = F.localInputToIso($('recover-since').value);
    const statuses = recoverStatuses();
    $('recover-submit').disabled = true;
    $('recover-error').hidden = true;
    if (!since || !statuses.length) {
      $('recover-count').textContent = !since ? 'Pick a time to recover from.' : 'Pick at least one kind of delivery.';
      return;
    }
    try {
      const r = await api('GET', '/v1/webhooks/' + w.id + '/recoverable?since=' + encodeURIComponent(since) + '&statuses=' + statuses.join(','));
      if (!recovering || recovering.webhook !== w) return;
      $('recover-count').textContent = r.count
        ? F.plural(r.count, 'delivery', 'deliveries') + ' since ' + F.utc(r.since) + ' will be sent again.'
        : 'Nothing to recover since ' + F.utc(r.since) + '.';
      $('recover-submit').textContent = r.count ? 'Recover ' + F.plural(r.count, 'delivery', 'deliveries') : 'Recover';
      $('recover-submit').disabled = r.count === 0;
    } catch (err) {
      recoverFail(err);
    }
  }

  function recoverFail(err) {
    $('recover-error').hidden = false;
    $('recover-error').textContent = err.message;
  }

  async function startRecover(event) {
    event.preventDefault();
    const w = recovering.webhook;
    $('recover-submit').disabled = true;
    try {
      const r = await api('POST', '/v1/webhooks/' + w.id + '/recover', { since: F.localInputToIso($('recover-since').value), statuses: recoverStatuses() });
      $('recover-since').disabled = true;
      document.querySelectorAll('input[name=recover-status]').forEach((i) => { i.disabled = true; });
      $('recover-progress').hidden = false;
      $('recover-submit').hidden = true; // one recovery per dialog: its progress replaces the button
      $('close-recover').focus();
      $('recover-temporal').href = r.temporalUrl;
      renderRecoverProgress(Object.assign({ started: 0 }, r));
      pollRecover(w, r.recoveryId);
    } catch (err) {
      recoverFail(err);
      $('recover-submit').disabled = false;
    }
  }

  function renderRecoverProgress(r) {
    $('recover-bar').max = Math.max(r.total, 1);
    $('recover-bar').value = r.status === 'completed' ? Math.max(r.total, 1) : r.started;
    $('recover-progress-text').textContent = r.status === 'completed'
      ? 'Completed: ' + F.plural(r.total, 'delivery', 'deliveries') + ' sent again. Their outcomes are in the Delivery Log.'
      : 'Re-delivering: ' + r.started + ' of ' + r.total + ' started…';
  }

  function pollRecover(w, recoveryId) {
    const tick = async () => {
      if (!recovering || recovering.webhook !== w) return;
      try {
        const r = await api('GET', '/v1/webhooks/' + w.id + '/recoveries/' + encodeURIComponent(recoveryId));
        if (!recovering || recovering.webhook !== w) return;
        renderRecoverProgress(r);
        if (r.status === 'completed') {
          show('Recovery completed for ' + w.url + '.');
          if (logWebhook && logWebhook.id === w.id) loadDeliveries().catch(fail);
          return;
        }
      } catch (err) {
        recoverFail(err);
      }
      recovering.timer = setTimeout(tick, RECOVER_POLL_MS);
    };
    tick();
  }

  function stopRecoverPoll() {
    if (recovering && recovering.timer) clearTimeout(recovering.timer);
    recovering = null;
  }

  $('recover-since').addEventListener('change', () => countRecoverable());
  document.querySelectorAll('input[name=recover-status]').forEach((i) => i.addEventListener('change', () => countRecoverable()));
  $('recover-form').addEventListener('submit', (e) => startRecover(e));
  $('close-recover').addEventListener('click', () => closeDialog($('recover-dialog')));
  $('recover-dialog').addEventListener('close', stopRecoverPoll);

  // ---- wiring
  EVENTS.forEach((name) => {
    $('events').appendChild(el('label', {}, [el('input', { type: 'checkbox', name: 'events', value: name }), ' ' + name]));
  });
  ['ping'].concat(EVENTS).forEach((name) => $('filter-event').appendChild(el('option', { value: name, text: name })));
  document.querySelectorAll('input[name=destination]').forEach((r) => r.addEventListener('change', syncDestination));
  $('add-webhook').addEventListener('click', (e) => openEditor(null, e.currentTarget));
  $('cancel-editor').addEventListener('click', () => closeDialog($('editor-dialog')));
  $('webhook-form').addEventListener('submit', (e) => save(e).catch(editorFail));
  $('connect-slack').addEventListener('click', () => connectSlack().catch(editorFail));

  function pageButtons(prefix, state, load) {
    $(prefix + '-next').addEventListener('click', () => {
      if (!state.next) return;
      state.cursors = state.cursors.slice(0, state.index + 1).concat([state.next]);
      state.index++;
      load().catch(fail);
    });
    $(prefix + '-prev').addEventListener('click', () => {
      if (state.index === 0) return;
      state.index--;
      load().catch(fail);
    });
  }
  pageButtons('webhooks', webhookPages, loadWebhooks);
  pageButtons('deliveries', logPages, loadDeliveries);

  const refilter = () => { logPages.cursors = [null]; logPages.index = 0; loadDeliveries().catch(fail); };
  $('filter-status').addEventListener('change', refilter);
  $('filter-event').addEventListener('change', refilter);
  $('log-filters').addEventListener('submit', (e) => e.preventDefault());
  $('close-log').addEventListener('click', () => { closeLog(); $('webhooks-title').focus(); });

  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    apiKey = $('api-key').value.trim();
    sessionStorage.setItem('cloudkeep.apiKey', apiKey);
    $('message').hidden = true; // the old message is stale: "Signed in" shows once the list is drawn
    webhookPages.cursors = [null];
    webhookPages.index = 0;
    loadWebhooks().then(() => show('Signed in.')).catch(fail);
  });
  if (new URLSearchParams(window.location.search).get('slackConnected')) show('Slack connected: CloudKeep posted a ping to the channel you picked.');
  if (apiKey) {
    $('api-key').value = apiKey;
    loadWebhooks().catch(fail);
  }
})();
