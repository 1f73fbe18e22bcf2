// Settings → Webhooks: a thin client of the admin API. Every value is rendered with textContent, never HTML.
(function () {
  'use strict';
  var EVENTS = ['secret.created', 'secret.updated', 'secret.deleted', 'vault.created', 'vault.updated', 'vault.deleted', 'member.added', 'member.removed'];
  var $ = function (id) { return document.getElementById(id); };
  var apiKey = sessionStorage.getItem('cloudkeep.apiKey') || '';

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'onclick') node.addEventListener('click', attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  function show(text, isError) {
    var m = $('message');
    m.hidden = false;
    m.textContent = text;
    m.className = isError ? 'error' : '';
  }

  async function api(method, path, body) {
    var res = await fetch(path, {
      method: method,
      headers: Object.assign({ Authorization: 'Bearer ' + apiKey }, body ? { 'Content-Type': 'application/json' } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    var data = res.status === 204 ? null : await res.json();
    if (!res.ok) {
      var detail = data && data.errors && data.errors.length ? data.errors.map(function (e) { return e.field + ': ' + e.message; }).join('; ') : (data && data.detail) || res.statusText;
      throw new Error(detail);
    }
    return data;
  }

  function badge(status) { return el('span', { class: 'badge status-' + status, text: status }); }

  async function loadWebhooks() {
    var tbody = $('webhooks').querySelector('tbody');
    tbody.textContent = '';
    var page = await api('GET', '/v1/webhooks?limit=100');
    $('empty').hidden = page.data.length > 0;
    for (var i = 0; i < page.data.length; i++) {
      var w = page.data[i];
      var detail = await api('GET', '/v1/webhooks/' + w.id);
      var health = detail.health ? detail.health.consecutiveFailureDays + ' failure day(s)' + (detail.health.lastError ? ' · ' + detail.health.lastError : '') : '—';
      tbody.appendChild(el('tr', { 'data-webhook': w.id }, [
        el('td', { text: w.url + (w.description ? ' (' + w.description + ')' : '') }),
        el('td', { text: w.destination + (w.slackChannel ? ' ' + w.slackChannel : '') }),
        el('td', { text: w.events.join(', ') }),
        el('td', {}, [badge(w.status)]),
        el('td', { text: health }),
        el('td', {}, actions(w)),
      ]));
    }
  }

  function actions(w) {
    var list = [
      el('button', { type: 'button', text: 'Test', onclick: function () { run(api('POST', '/v1/webhooks/' + w.id + '/test'), 'Ping sent to ' + w.url); } }),
      el('button', { type: 'button', class: 'secondary', text: 'Delivery Log', onclick: function () { openLog(w).catch(fail); } }),
    ];
    if (w.status === 'disabled') list.push(el('button', { type: 'button', text: 'Enable', onclick: function () { run(api('POST', '/v1/webhooks/' + w.id + '/enable'), 'Re-enabled; a ping checks the endpoint'); } }));
    list.push(el('button', { type: 'button', class: 'danger', text: 'Delete', onclick: function () {
      if (confirm('Delete the webhook to ' + w.url + '?')) run(api('DELETE', '/v1/webhooks/' + w.id), 'Deleted');
    } }));
    return list;
  }

  function run(promise, success) {
    promise.then(function () { show(success); return loadWebhooks(); }).catch(fail);
  }
  function fail(err) { show(err.message, true); }

  async function openLog(w) {
    $('log').hidden = false;
    $('attempts').hidden = true;
    $('log-webhook').textContent = '· ' + w.url;
    var tbody = $('deliveries').querySelector('tbody');
    tbody.textContent = '';
    var page = await api('GET', '/v1/webhooks/' + w.id + '/deliveries?limit=50');
    page.data.forEach(function (d) {
      tbody.appendChild(el('tr', { 'data-delivery': d.id }, [
        el('td', { text: new Date(d.createdAt).toLocaleString() }),
        el('td', { text: d.event }),
        el('td', {}, [badge(d.status)]),
        el('td', { text: String(d.attemptCount) }),
        el('td', { text: d.lastResponseStatus ? String(d.lastResponseStatus) : d.lastError || '—' }),
        el('td', {}, [
          el('button', { type: 'button', class: 'secondary', text: 'Attempts', onclick: function () { showAttempts(d.id).catch(fail); } }),
          el('button', { type: 'button', text: 'Redeliver', onclick: function () {
            api('POST', '/v1/deliveries/' + d.id + '/redeliver').then(function () { show('Redelivery requested'); return openLog(w); }).catch(fail);
          } }),
          el('a', { href: d.temporalUrl, target: '_blank', rel: 'noopener', text: 'Temporal' }),
        ]),
      ]));
    });
  }

  async function showAttempts(deliveryId) {
    var d = await api('GET', '/v1/deliveries/' + deliveryId);
    var box = $('attempts');
    box.hidden = false;
    box.textContent = '';
    box.appendChild(el('h3', { text: 'Attempts of ' + d.id }));
    d.attempts.forEach(function (a) {
      box.appendChild(el('p', { text: '#' + a.number + ' ' + a.trigger + ' at ' + a.attemptedAt + ' → ' + (a.response.status || a.error) + ' in ' + a.durationMs + ' ms' }));
      box.appendChild(el('pre', { text: JSON.stringify(a.request.headers, null, 2) + '\n\n' + a.request.body + (a.response.body ? '\n\nResponse: ' + a.response.body : '') }));
    });
  }

  function destination() { return document.querySelector('input[name=destination]:checked').value; }

  function openEditor() {
    $('editor').hidden = false;
    $('secret-once').hidden = true;
    $('webhook-form').reset();
    syncDestination();
  }

  function syncDestination() {
    var slack = destination() === 'slack';
    $('connect-slack').hidden = !slack;
    $('slack-hint').hidden = !slack;
    $('secret').closest('label').hidden = destination() !== 'generic';
  }

  function chosenEvents() {
    return Array.prototype.slice.call(document.querySelectorAll('#events input:checked')).map(function (i) { return i.value; });
  }

  async function save(event) {
    event.preventDefault();
    var body = { url: $('url').value.trim(), destination: destination(), events: chosenEvents() };
    if ($('description').value.trim()) body.description = $('description').value.trim();
    if (destination() === 'generic' && $('secret').value) body.secret = $('secret').value;
    var created = await api('POST', '/v1/webhooks', body);
    $('editor').hidden = true;
    if (created.destination === 'generic') {
      $('secret-once').hidden = false;
      $('secret-value').textContent = created.secret;
    }
    show('Saved. CloudKeep sent a ping to verify the endpoint.');
    await loadWebhooks();
  }

  async function connectSlack() {
    var body = { events: chosenEvents() };
    if ($('description').value.trim()) body.description = $('description').value.trim();
    var res = await api('POST', '/v1/integrations/slack/authorize', body);
    window.location.assign(res.authorizeUrl);
  }

  EVENTS.forEach(function (name) {
    $('events').appendChild(el('label', {}, [el('input', { type: 'checkbox', name: 'events', value: name }), document.createTextNode(' ' + name)]));
  });
  document.querySelectorAll('input[name=destination]').forEach(function (r) { r.addEventListener('change', syncDestination); });
  $('add-webhook').addEventListener('click', openEditor);
  $('cancel').addEventListener('click', function () { $('editor').hidden = true; });
  $('webhook-form').addEventListener('submit', function (e) { save(e).catch(fail); });
  $('connect-slack').addEventListener('click', function () { connectSlack().catch(fail); });
  $('key-form').addEventListener('submit', function (e) {
    e.preventDefault();
    apiKey = $('api-key').value.trim();
    sessionStorage.setItem('cloudkeep.apiKey', apiKey);
    loadWebhooks().then(function () { show('Signed in'); }).catch(fail);
  });
  if (new URLSearchParams(window.location.search).get('slackConnected')) show('Slack connected: CloudKeep posted a ping to the channel you picked.');
  if (apiKey) {
    $('api-key').value = apiKey;
    loadWebhooks().catch(fail);
  }
})();
