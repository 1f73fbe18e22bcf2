/// <reference lib="dom" />
/**
 * Settings → Webhooks in a real browser (Debian's Chromium driven by playwright-core) against the real stack:
 * whole flows as an owner clicks (or types) through them. SETTINGS_SCREENSHOTS=<dir> also saves the README's
 * screenshots there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, Browser, BrowserContext, Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { Receiver, Responder } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { verifyWebhook } from './support/verify-webhook';
import { waitFor } from './support/wait';
import { chromiumPath } from '../scripts/prepare-test-servers';
import { attemptOutcomeSignal, webhookHealthQuery, webhookHealthWorkflowId } from '../src/workflows/messages';

let stack: Stack;
let receiver: Receiver;
/** A fake slack.com: its consent screen sends the browser straight back with a code; its token exchange names #page-alerts. */
let slack: Receiver;
const SLACK_REDIRECT_URL = 'https://app.cloudkeep.test/v1/integrations/slack/callback';
let org: Org;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Paths answered 500 by the receiver (everything else gets 200). */
const failingPaths = new Set<string>();

const screenshotDir = process.env.SETTINGS_SCREENSHOTS;
async function screenshot(p: Page, name: string, options: { fullPage?: boolean } = {}) {
  if (!screenshotDir) return;
  fs.mkdirSync(screenshotDir, { recursive: true });
  await p.screenshot({ path: path.join(screenshotDir, name), fullPage: options.fullPage ?? false });
}

async function newContext(viewport = { width: 1280, height: 900 }) {
  const ctx = await browser.newContext({ viewport, timezoneId: 'UTC' });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.apiUrl });
  return ctx;
}

async function signIn(p: Page, apiKey: string) {
  await p.goto(`${stack.apiUrl}/settings/`);
  await p.fill('#api-key', apiKey);
  await p.click('#key-form button[type=submit]');
  await p.waitForSelector('#message:has-text("Signed in")');
}

/** Reloads the list (the key form's submit does exactly that); signs in first when the page is not open yet. */
async function refreshList(p: Page) {
  if (!p.url().startsWith(stack.apiUrl)) return signIn(p, org.apiKey);
  await p.click('#key-form button[type=submit]');
  await p.waitForSelector('#message:has-text("Signed in")');
}

/** Waits for the keyboard focus to land on `selector` (dialogs hand it back when their close event runs). */
async function focused(p: Page, selector: string) {
  await p.waitForFunction((sel) => !!document.activeElement?.matches(sel), selector, { timeout: 5000 });
}
const key = (k: string) => `[data-focus-key="${k}"]`;

const card = (webhookId: string) => `li[data-webhook="${webhookId}"]`;

async function createWebhook(o: Org, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await stack.api('POST', '/v1/webhooks', o.apiKey, body);
  expect(res.status).toBe(201);
  return res.body;
}

async function webhookStatus(id: string): Promise<string> {
  return (await stack.db('webhooks').where({ id }).first()).status;
}

async function deliveredCount(webhookId: string, status = 'succeeded'): Promise<number> {
  return Number((await stack.db('deliveries').where({ webhook_id: webhookId, status }).count('* as n').first())!.n);
}

beforeAll(async () => {
  const fakeSlack: Responder = (req): ReturnType<Responder> => {
    const url = new URL(req.path, 'http://fake-slack');
    if (req.method === 'GET' && url.pathname === '/oauth/v2/authorize') {
      const back = new URLSearchParams({ code: 'good-code', state: url.searchParams.get('state') ?? '' });
      return { status: 302, headers: { Location: `${stack.apiUrl}/v1/integrations/slack/callback?${back}` } };
    }
    if (req.method === 'POST' && url.pathname === '/api/oauth.v2.access' && new URLSearchParams(req.body).get('code') === 'good-code') {
      const body = { ok: true, scope: 'incoming-webhook', incoming_webhook: { channel: '#page-alerts', channel_id: 'C0FAKE', url: `${receiver.url}/services/T0FAKE/B0FAKE/slack-token` } };
      return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
    }
    return { status: 404, body: 'not found' };
  };
  slack = await new Receiver(fakeSlack).start();
  stack = await createStack({
    env: {
      SLACK_CLIENT_ID: '123.456',
      SLACK_CLIENT_SECRET: 'fake-slack-client-secret',
      SLACK_REDIRECT_URL,
      SLACK_API_URL: `${slack.url}/api`,
      SLACK_AUTHORIZE_URL: `${slack.url}/oauth/v2/authorize`,
    },
  });
  receiver = await new Receiver((req) => (failingPaths.has(req.path) ? { status: 500, body: 'upstream exploded' } : { status: 200, body: 'ok' })).start();
  org = await stack.createOrg();
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context = await newContext();
  page = await context.newPage();
});
afterAll(async () => {
  await browser?.close();
  await receiver?.stop();
  await slack?.stop();
  await stack?.close();
});

it('adds a webhook, copies its secret once, tests it, reads the attempt detail and redelivers', async () => {
  await signIn(page, org.apiKey);
  await page.waitForSelector('#empty:not([hidden])');

  await page.click('#add-webhook');
  await page.fill('#url', `${receiver.url}/from-the-page`);
  await page.check('#events input[value="secret.created"]');
  await page.fill('#vault-ids', 'vlt_8xK2mN, vlt_other');
  await page.fill('#description', 'Deploy hook');
  await expect(page.isChecked('#standard-webhooks')).resolves.toBe(false);
  await page.click('#save-webhook');

  // The secret, once, with a copy button that really copies.
  await page.waitForSelector('#secret-dialog[open]');
  const secret = await page.textContent('#secret-value');
  expect(secret).toMatch(/^whsec_/);
  await page.click('#copy-secret');
  await page.waitForSelector('#copy-status:has-text("Copied")');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  const [row] = await stack.db('webhooks').where({ organization_id: org.id });
  expect(row).toMatchObject({ description: 'Deploy hook', vault_ids: ['vlt_8xK2mN', 'vlt_other'] });
  expect(stack.secretBox.open(row.secret_ciphertext)).toBe(secret);
  await page.click('#close-secret');
  await focused(page, '#add-webhook'); // focus returns to the opener
  expect(await page.textContent('#secret-value')).toBe(''); // shown once: gone from the page

  // The ping makes it active; the list says so in words.
  await waitFor(async () => (await webhookStatus(row.id)) === 'active', 'the ping');
  await refreshList(page);
  await page.waitForSelector(`${card(row.id)} .badge:has-text("Active")`);
  expect(await page.textContent(`${card(row.id)} .health`)).toBe('Healthy');
  expect(await page.textContent(`${card(row.id)} .meta`)).toContain('Vaults: vlt_8xK2mN, vlt_other');

  await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: secretCreatedData });
  await page.click(`${card(row.id)} button:has-text("Test")`);
  await page.waitForSelector('#message:has-text("Ping sent")');
  await waitFor(async () => (await deliveredCount(row.id)) === 3, 'three deliveries');

  await page.click(`${card(row.id)} button:has-text("Delivery Log")`);
  await page.waitForSelector('#deliveries tr[data-delivery] >> nth=2');
  const events = await page.$$eval('#deliveries tr[data-delivery] td[data-label="Event"]', (cells) => cells.map((c) => c.textContent).sort());
  expect(events).toEqual(['ping', 'ping', 'secret.created']);
  await screenshot(page, 'settings-delivery-log.png', { fullPage: true });

  // Attempt detail: request headers and body exactly as sent, response status and body, duration, Temporal link.
  const delivery = await stack.db('deliveries').where({ webhook_id: row.id, event_type: 'secret.created' }).first();
  const sent = receiver.requests.find((r) => r.headers['x-cloudkeep-delivery'] === delivery.id)!;
  await page.click(`#deliveries tr[data-delivery="${delivery.id}"] button:has-text("Details")`);
  await page.waitForSelector('#detail-dialog[open] article.attempt');
  expect(await page.textContent('#detail-dialog .request-headers')).toContain(`X-CloudKeep-Signature-256: ${sent.headers['x-cloudkeep-signature-256']}`);
  expect(await page.textContent('#detail-dialog .request-body')).toBe(sent.body);
  expect(await page.textContent('#detail-dialog .attempt-result')).toBe('Succeeded · 200');
  expect(await page.textContent('#detail-dialog .response-body')).toBe('ok');
  expect(await page.textContent('#detail-dialog .attempt-duration')).toMatch(/^\d+(\.\d+)? m?s$/);
  expect(await page.getAttribute('#detail-temporal', 'href')).toBe(`http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(`delivery:${delivery.id}`)}`);
  expect(await page.textContent('#log')).not.toContain(secret!); // the log never shows the secret
  await screenshot(page, 'settings-delivery-detail.png');

  // Redeliver from the detail: the same delivery id arrives again and the detail shows the second attempt.
  await page.click('#detail-redeliver');
  await page.waitForSelector('#message:has-text("Redelivery of")');
  await waitFor(() => receiver.requests.filter((r) => r.headers['x-cloudkeep-delivery'] === delivery.id).length === 2, 'the redelivery');
  await waitFor(async () => (await stack.db('delivery_attempts').where({ delivery_id: delivery.id }).count('* as n').first())!.n === '2', 'its attempt row');
  await page.click('#close-detail');
  await focused(page, key(`${delivery.id}:details`));
  await page.click(`#deliveries tr[data-delivery="${delivery.id}"] button:has-text("Details")`);
  await page.waitForSelector('#detail-dialog[open] article.attempt >> nth=1');
  await page.click('#close-detail');

  // Redeliver from the log row (a ping).
  const ping = await stack.db('deliveries').where({ webhook_id: row.id, event_type: 'ping' }).orderBy('created_at', 'desc').first();
  await page.click(`#deliveries tr[data-delivery="${ping.id}"] button:has-text("Redeliver")`);
  await page.waitForSelector(`#message:has-text("Redelivery of ${ping.id}")`);
  await waitFor(() => receiver.requests.filter((r) => r.headers['x-cloudkeep-delivery'] === ping.id).length === 2, 'the ping redelivered');
});

it('rotates a secret behind a confirmation and copies the new one', async () => {
  const { id, secret: old } = await createWebhook(org, { url: `${receiver.url}/rotating`, events: ['vault.created'] });
  await refreshList(page);
  await page.click(`${card(id)} button:has-text("Rotate secret")`);
  await page.waitForSelector('#confirm-dialog[open]');
  await focused(page, '#confirm-cancel'); // the safe choice first
  await page.click('#confirm-ok');
  await page.waitForSelector('#secret-dialog[open]');
  const shown = await page.textContent('#secret-value');
  await page.click('#copy-secret');
  await page.waitForSelector('#copy-status:has-text("Copied")');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  const row = await stack.db('webhooks').where({ id }).first();
  expect(copied).toBe(shown);
  expect(stack.secretBox.open(row.secret_ciphertext)).toBe(copied);
  expect(copied).not.toBe(old);
  await page.click('#close-secret');
  await focused(page, key(`${id}:rotate`));

  // Cancelling changes nothing.
  await page.click(`${card(id)} button:has-text("Rotate secret")`);
  await page.click('#confirm-cancel');
  expect(await page.isVisible('#secret-dialog')).toBe(false);
  expect((await stack.db('webhooks').where({ id }).first()).secret_ciphertext).toBe(row.secret_ciphertext);
});

it('shows a disabled webhook as such and enables it again', async () => {
  const { id } = await createWebhook(org, { url: `${receiver.url}/comes-back`, events: ['vault.deleted'] });
  await waitFor(async () => (await webhookStatus(id)) === 'active', 'the ping');
  // What the health rule leaves behind after three failure days (the rule itself is tested in health.test.ts).
  await stack.db('webhooks').where({ id }).update({ status: 'disabled', status_reason: 'Failing for 3 consecutive days', status_changed_at: new Date() });
  await refreshList(page);
  await page.waitForSelector(`${card(id)} .badge:has-text("Disabled")`);
  expect(await page.textContent(`${card(id)} .health`)).toContain('Disabled');
  expect(await page.textContent(`${card(id)} .health`)).toContain('Failing for 3 consecutive days');
  expect(await page.$$eval(`${card(id)} .actions button`, (bs) => bs.map((b) => b.textContent))).toEqual(['Enable', 'Delivery Log', 'Edit', 'Rotate secret', 'Delete']);

  await page.focus(`${card(id)} button:has-text("Enable")`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#message:has-text("Re-enabled")');
  expect(await page.textContent('#message')).toContain('Nothing was missed since');
  // Enable turns into Test: the keyboard stays in the same row.
  await focused(page, key(`${id}:test`));
  await waitFor(async () => (await webhookStatus(id)) === 'active', 'the ping after enabling');
  await refreshList(page);
  await page.waitForSelector(`${card(id)} .badge:has-text("Active")`);
  expect(await page.textContent(`${card(id)} .health`)).toBe('Healthy');
});

it('says Healthy for an active webhook with a failed attempt behind it, and filters the log by status and event', async () => {
  const { id } = await createWebhook(org, { url: `${receiver.url}/flaky`, events: ['secret.deleted'] });
  await waitFor(async () => (await webhookStatus(id)) === 'active', 'the ping');
  failingPaths.add('/flaky');
  await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.deleted', data: secretCreatedData });
  await waitFor(async () => (await deliveredCount(id, 'retrying')) === 1, 'a failed attempt');
  const health = await waitFor(async () => (await stack.api('GET', `/v1/webhooks/${id}`, org.apiKey)).body.health?.lastError, 'the health workflow to hear of it');

  await refreshList(page);
  expect(await page.textContent(`${card(id)} .health`)).toBe('Healthy');
  expect(await page.textContent(card(id))).not.toContain(health);

  await page.click(`${card(id)} button:has-text("Delivery Log")`);
  await page.waitForSelector('#deliveries tr[data-delivery] >> nth=1');
  await page.selectOption('#filter-status', 'retrying');
  await page.waitForFunction(() => document.querySelectorAll('#deliveries tr[data-delivery]').length === 1);
  expect(await page.textContent('#deliveries tr[data-delivery] td[data-label="Event"]')).toBe('secret.deleted');
  expect(await page.textContent('#deliveries tr[data-delivery] td[data-label="Last response"]')).toContain('500');
  await page.selectOption('#filter-status', 'succeeded');
  await page.waitForFunction(() => document.querySelector('#deliveries tr[data-delivery] td[data-label="Event"]')?.textContent === 'ping');
  await page.selectOption('#filter-status', 'failed');
  await page.waitForSelector('#log-empty:not([hidden])');
  await page.selectOption('#filter-status', '');
  await page.selectOption('#filter-event', 'secret.deleted');
  await page.waitForFunction(() => document.querySelectorAll('#deliveries tr[data-delivery]').length === 1);
  expect(await page.textContent('#deliveries tr[data-delivery] .badge')).toBe('Retrying');

  // The detail of a failed attempt names the response and the error.
  await page.click('#deliveries tr[data-delivery] button:has-text("Details")');
  await page.waitForSelector('#detail-dialog[open] article.attempt-failed');
  expect(await page.textContent('#detail-dialog .attempt-result')).toBe('Failed · 500');
  expect(await page.textContent('#detail-dialog .response-body')).toBe('upstream exploded');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#detail-dialog', { state: 'hidden' });
  failingPaths.delete('/flaky');
});

it('says a delivery held up on our side is delayed, since when and why, in the log and its detail', async () => {
  const { id } = await createWebhook(org, { url: `${receiver.url}/held-up`, events: ['vault.deleted'] });
  await waitFor(async () => (await webhookStatus(id)) === 'active', 'the ping');
  failingPaths.add('/held-up');
  try {
    await stack.api('POST', '/v1/events', org.serviceToken, { event: 'vault.deleted', data: { vaultId: 'vlt_8xK2mN', vaultName: 'Production', actor: { id: 'usr_1', name: 'Jane' } } });
    await waitFor(async () => (await deliveredCount(id, 'retrying')) === 1, 'a failed attempt');
    // The state a worker writes when the next attempt keeps failing on the database (test/stalled-deliveries.test.ts
    // makes it for real); written here so the page is checked on a delivery that stays in it.
    const [delivery] = await stack.db('deliveries').where({ webhook_id: id, event_type: 'vault.deleted' }).update({ stalled_reason: 'database_unavailable', stalled_since: new Date('2026-11-25T10:14:03Z') }).returning('id');
    const expected = 'Delayed on our side since 2026-11-25 10:14 UTC: our database is unavailable. It goes out once that is fixed.';
    await refreshList(page);
    await page.click(`${card(id)} button:has-text("Delivery Log")`);
    const cell = `#deliveries tr[data-delivery="${delivery.id}"] td[data-label="Last response"]`;
    await page.waitForSelector(`${cell}:has-text("Delayed on our side")`);
    expect(await page.textContent(cell)).toBe(expected);
    expect(await page.textContent(`#deliveries tr[data-delivery="${delivery.id}"] .badge`)).toBe('Retrying');
    await page.click(`#deliveries tr[data-delivery="${delivery.id}"] button:has-text("Details")`);
    await page.waitForSelector('#detail-dialog[open] dt:has-text("Delayed")');
    expect(await page.textContent('#detail-dialog dt:has-text("Delayed") + dd')).toBe(expected);
    await page.keyboard.press('Escape');
    await page.waitForSelector('#detail-dialog', { state: 'hidden' });
    await page.click('#close-log');
  } finally {
    failingPaths.delete('/held-up');
  }
});

it('pages through webhooks and deliveries with the cursor API', async () => {
  const many = await stack.createOrg('Many', 'many@acme.test');
  const ids: string[] = [];
  for (let i = 0; i < 11; i++) {
    ids.push((await createWebhook(many, { url: `${receiver.url}/many/${i}`, events: [i === 0 ? 'vault.updated' : 'member.added'] })).id);
  }
  const busy = ids[0];
  for (let i = 0; i < 21; i++) {
    await stack.api('POST', '/v1/events', many.serviceToken, { event: 'vault.updated', data: { vaultId: `vlt_${i}`, vaultName: `Vault ${i}` } });
  }
  await waitFor(async () => (await deliveredCount(busy)) === 22, '21 events and the ping delivered');

  const p = await context.newPage();
  await signIn(p, many.apiKey);
  await p.waitForSelector('li[data-webhook] >> nth=9');
  expect(await p.$$eval('li[data-webhook]', (items) => items.length)).toBe(10);
  expect(await p.textContent('#webhooks-page')).toBe('Page 1');
  expect(await p.isDisabled('#webhooks-prev')).toBe(true);
  await p.click('#webhooks-next');
  await p.waitForSelector('#webhooks-page:has-text("Page 2")');
  const second = await p.$$eval('li[data-webhook]', (items) => items.map((i) => i.getAttribute('data-webhook')));
  expect(second).toEqual([busy]); // newest first: the first one created is alone on page 2
  expect(await p.isDisabled('#webhooks-next')).toBe(true);

  await p.click(`${card(busy)} button:has-text("Delivery Log")`);
  await p.waitForSelector('#deliveries tr[data-delivery] >> nth=19');
  expect(await p.$$eval('#deliveries tr[data-delivery]', (rows) => rows.length)).toBe(20);
  const firstPage = await p.$$eval('#deliveries tr[data-delivery]', (rows) => rows.map((r) => r.getAttribute('data-delivery')));
  await p.click('#deliveries-next');
  await p.waitForSelector('#deliveries-page:has-text("Page 2")');
  const secondPage = await p.$$eval('#deliveries tr[data-delivery]', (rows) => rows.map((r) => r.getAttribute('data-delivery')));
  expect(secondPage).toHaveLength(2);
  expect(new Set([...firstPage, ...secondPage]).size).toBe(22);
  expect(await p.$$eval('#deliveries tr[data-delivery] td[data-label="Event"]', (c) => c.map((x) => x.textContent))).toContain('ping'); // oldest last
  await p.click('#deliveries-prev');
  await p.waitForSelector('#deliveries-page:has-text("Page 1")');
  expect(await p.$$eval('#deliveries tr[data-delivery]', (rows) => rows.map((r) => r.getAttribute('data-delivery')))).toEqual(firstPage);
  // A filter starts again at page 1.
  await p.click('#deliveries-next');
  await p.waitForSelector('#deliveries-page:has-text("Page 2")');
  await p.selectOption('#filter-event', 'ping');
  await p.waitForSelector('#deliveries-page:has-text("Page 1")');
  await p.waitForFunction(() => document.querySelectorAll('#deliveries tr[data-delivery]').length === 1);
  await p.close();
});

it('runs the Add Webhook dialog by keyboard alone: focus stays inside, Escape returns it, Enter saves', async () => {
  await refreshList(page);
  await page.focus('#add-webhook');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#editor-dialog[open]');
  const inside = () => page.evaluate(() => !!document.activeElement?.closest('#editor-dialog'));
  expect(await inside()).toBe(true);
  // A visible focus ring on keyboard focus.
  expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).toBe('solid');
  const seen = new Set<string>();
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press('Tab');
    expect(await inside()).toBe(true);
    seen.add(await page.evaluate(() => document.activeElement!.id || (document.activeElement as HTMLInputElement).value));
  }
  expect([...seen]).toEqual(expect.arrayContaining(['url', 'secret.created', 'vault-ids', 'description', 'rate-limit', 'secret', 'standard-webhooks', 'save-webhook', 'cancel-editor']));
  await page.keyboard.press('Shift+Tab');
  expect(await inside()).toBe(true);
  await page.keyboard.press('Escape');
  await page.waitForSelector('#editor-dialog', { state: 'hidden' });
  await focused(page, '#add-webhook');

  // Again, now filling it in: Tab to the URL, type, Space ticks an event, Enter saves.
  await page.keyboard.press('Enter');
  await page.waitForSelector('#editor-dialog[open]');
  while ((await page.evaluate(() => document.activeElement?.id)) !== 'url') await page.keyboard.press('Tab');
  await page.keyboard.type(`${receiver.url}/typed`);
  while ((await page.evaluate(() => (document.activeElement as HTMLInputElement).value)) !== 'member.removed') await page.keyboard.press('Tab');
  await page.keyboard.press('Space');
  while ((await page.evaluate(() => document.activeElement?.id)) !== 'url') await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#secret-dialog[open]');
  await focused(page, '#copy-secret');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#secret-dialog', { state: 'hidden' });
  await focused(page, '#add-webhook');
  await page.waitForFunction(() => document.getElementById('secret-value')!.textContent === ''); // Escape forgets it too
  const typed = await stack.db('webhooks').where({ organization_id: org.id }).whereRaw("display_url like '%/typed'").first();
  expect(typed.events).toEqual(['member.removed']);
});

it('edits a webhook: events, vault filter and description, sending only what changed', async () => {
  const { id } = await createWebhook(org, { url: `${receiver.url}/edit-me`, events: ['vault.created'], description: 'Before' });
  await refreshList(page);
  await page.click(`${card(id)} button:has-text("Edit")`);
  await page.waitForSelector('#editor-dialog[open]');
  expect(await page.textContent('#editor-title')).toBe('Edit Webhook');
  expect(await page.inputValue('#url')).toBe(`${receiver.url}/edit-me`);
  expect(await page.isChecked('#events input[value="vault.created"]')).toBe(true);
  expect(await page.isDisabled('input[name=destination][value=slack]')).toBe(true);
  expect(await page.isVisible('#secret')).toBe(false); // a secret changes through Rotate, not Edit
  await page.check('#events input[value="vault.deleted"]');
  await page.fill('#vault-ids', 'vlt_only');
  await page.fill('#description', '');
  await page.click('#save-webhook');
  await page.waitForSelector('#editor-dialog', { state: 'hidden' });
  await page.waitForSelector('#message:has-text("Saved.")');
  const row = await stack.db('webhooks').where({ id }).first();
  expect(row).toMatchObject({ events: ['vault.created', 'vault.deleted'], vault_ids: ['vlt_only'], description: null });
  expect(await page.textContent('#message')).not.toContain('ping'); // the URL did not change
  await focused(page, key(`${id}:edit`));
});

it('shows API errors with the field named, inside the dialog', async () => {
  await page.click('#add-webhook');
  await page.fill('#url', `${receiver.url}/no-events`);
  await page.click('#save-webhook');
  await page.waitForSelector('#editor-error:not([hidden])');
  expect(await page.textContent('#editor-error')).toContain('body.events');
  expect(await page.isVisible('#editor-dialog')).toBe(true);
  await page.click('#cancel-editor');
});

it('fits a 360 px wide screen without horizontal scrolling', async () => {
  const narrow = await newContext({ width: 360, height: 780 });
  const p = await narrow.newPage();
  await signIn(p, org.apiKey);
  await p.waitForSelector('li[data-webhook]');
  const overflow = () => p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(await overflow()).toBe(0);
  // Status badges stay on one line.
  const badgeHeights = await p.$$eval('li[data-webhook] .badge', (bs) => bs.map((b) => b.getBoundingClientRect().height));
  const lineHeight = await p.$eval('li[data-webhook] .badge', (b) => parseFloat(getComputedStyle(b).lineHeight) + 4);
  for (const h of badgeHeights) expect(h).toBeLessThanOrEqual(lineHeight + 2);
  await screenshot(p, 'settings-360px.png', { fullPage: true });

  const first = await p.getAttribute('li[data-webhook]', 'data-webhook');
  await p.click(`${card(first!)} button:has-text("Delivery Log")`);
  await p.waitForSelector('#deliveries tr[data-delivery]');
  expect(await overflow()).toBe(0);
  await p.$eval('#log', (log) => log.scrollIntoView());
  await screenshot(p, 'settings-360px-log.png');
  await p.click('#deliveries tr[data-delivery] button:has-text("Details")');
  await p.waitForSelector('#detail-dialog[open]');
  expect(await p.$eval('#detail-dialog', (d) => d.scrollWidth - d.clientWidth)).toBe(0);
  await screenshot(p, 'settings-360px-detail.png');
  await p.click('#close-detail');
  await p.click('#add-webhook');
  await p.waitForSelector('#editor-dialog[open]');
  expect(await p.$eval('#editor-dialog', (d) => d.scrollWidth - d.clientWidth)).toBe(0);
  await narrow.close();
});

it('keeps what a disabled webhook missed, offers it on Enable and recovers it with progress', async () => {
  const { id } = await createWebhook(org, { url: `${receiver.url}/recover-me`, events: ['secret.updated'] });
  await waitFor(async () => (await webhookStatus(id)) === 'active', 'the ping');
  const failingSince = new Date(Date.now() - 2 * 86_400_000);
  failingSince.setUTCSeconds(0, 0);
  await stack.db('webhooks').where({ id }).update({ status: 'disabled', status_reason: 'Failing for 3 consecutive days', status_changed_at: new Date(), failing_since: failingSince });
  for (const key of ['FIRST', 'SECOND', 'THIRD']) {
    await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.updated', data: { ...secretCreatedData, secretKey: key } });
  }
  await signIn(page, org.apiKey);

  // The log keeps them as skipped: nothing was sent.
  await page.click(`${card(id)} button:has-text("Delivery Log")`);
  await page.selectOption('#filter-status', 'skipped');
  await page.waitForFunction(() => document.querySelectorAll('#deliveries tr[data-delivery]').length === 3);
  expect(await page.$$eval('#deliveries tr[data-delivery] .badge', (bs) => bs.map((b) => b.textContent))).toEqual(['Skipped', 'Skipped', 'Skipped']);
  await page.click('#deliveries tr[data-delivery] button:has-text("Details")');
  await page.waitForSelector('#detail-dialog[open]');
  expect(await page.textContent('#detail-attempts')).toContain('No request was sent');
  await page.click('#close-detail');
  expect(receiver.requests.filter((r) => r.path === '/recover-me' && r.headers['x-cloudkeep-event'] === 'secret.updated')).toHaveLength(0);

  // Enable answers how many can be recovered, and offers it.
  await page.click(`${card(id)} button:has-text("Enable")`);
  await page.waitForSelector('#message:has-text("can be recovered")');
  expect(await page.textContent('#message-text')).toContain(`3 deliveries since ${failingSince.toISOString().slice(0, 16).replace('T', ' ')} UTC can be recovered.`);
  await page.click('#message button:has-text("Recover")');
  await page.waitForSelector('#recover-dialog[open]');
  expect(await page.inputValue('#recover-since')).toBe(failingSince.toISOString().slice(0, 16)); // the browser runs in UTC
  await page.waitForSelector('#recover-count:has-text("3 deliveries since")');
  expect(await page.textContent('#recover-submit')).toBe('Recover 3 deliveries');

  await page.click('#recover-submit');
  await page.waitForSelector('#recover-progress-text:has-text("Completed: 3 deliveries sent again")');
  expect(await page.getAttribute('#recover-temporal', 'href')).toMatch(/^http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/.+/);
  const recovered = await waitFor(() => {
    const got = receiver.requests.filter((r) => r.path === '/recover-me' && r.headers['x-cloudkeep-event'] === 'secret.updated');
    return got.length === 3 ? got : null;
  }, 'the three recovered deliveries');
  expect(recovered.map((r) => JSON.parse(r.body).data.secretKey).sort()).toEqual(['FIRST', 'SECOND', 'THIRD']);
  await page.waitForSelector('#message:has-text("Recovery completed")');
  await screenshot(page, 'settings-recover.png');
  await page.click('#close-recover');
  // The message that offered it was replaced meanwhile: focus lands on the webhook's own Recover button.
  await focused(page, key(`${id}:recover`));

  // Nothing is left to recover; choosing no kind of delivery is explained.
  await refreshList(page);
  await page.click(`${card(id)} button:has-text("Recover")`);
  await page.waitForSelector('#recover-count:has-text("Nothing to recover")');
  expect(await page.isDisabled('#recover-submit')).toBe(true);
  await page.uncheck('input[name=recover-status][value=failed]');
  await page.uncheck('input[name=recover-status][value=skipped]');
  await page.waitForSelector('#recover-count:has-text("Pick at least one")');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#recover-dialog', { state: 'hidden' });
});

it('adds a webhook that also signs with Standard Webhooks headers, and turns it off again', async () => {
  await page.click('#add-webhook');
  await page.check('input[name=destination][value=discord]');
  expect(await page.isVisible('#standard-webhooks')).toBe(false); // generic webhooks only
  await page.check('input[name=destination][value=generic]');
  await page.fill('#url', `${receiver.url}/standard`);
  await page.check('#events input[value="vault.created"]');
  await page.check('#standard-webhooks');
  await page.click('#save-webhook');
  await page.waitForSelector('#secret-dialog[open]');
  const secret = (await page.textContent('#secret-value'))!;
  await page.click('#close-secret');
  const row = await stack.db('webhooks').where({ organization_id: org.id }).whereRaw("display_url like '%/standard'").first();
  expect(row.standard_webhooks).toBe(true);
  await page.waitForSelector(`${card(row.id)} .meta:has-text("CloudKeep + Standard Webhooks signatures")`);

  // Its ping is signed both ways, checked by the independent standardwebhooks verifier.
  const ping = await waitFor(() => receiver.requests.find((r) => r.path === '/standard'), 'the ping');
  const headers = Object.fromEntries(Object.entries(ping.headers).map(([k, v]) => [k, String(v)]));
  expect(new Webhook(secret).verify(ping.body, headers)).toEqual(JSON.parse(ping.body));
  expect(verifyWebhook(ping.body, headers['x-cloudkeep-signature-256'], secret)).toBe(true);

  await page.click(`${card(row.id)} button:has-text("Edit")`);
  await page.waitForSelector('#editor-dialog[open]');
  expect(await page.isChecked('#standard-webhooks')).toBe(true);
  await page.uncheck('#standard-webhooks');
  await page.click('#save-webhook');
  await page.waitForSelector('#message:has-text("Saved.")');
  expect((await stack.api('GET', `/v1/webhooks/${row.id}`, org.apiKey)).body.standardWebhooks).toBe(false);
  await page.waitForSelector(`${card(row.id)} .meta:has-text("· CloudKeep signature")`);
});

it('sets a rate limit in Add, shows it in the list and a paced delivery in the Delivery Log, and removes it in Edit', async () => {
  await page.click('#add-webhook');
  await page.fill('#url', `${receiver.url}/paced`);
  await page.check('#events input[value="member.removed"]');
  await page.fill('#rate-limit', '0.1'); // one delivery every ~11 s
  await page.click('#save-webhook');
  await page.waitForSelector('#secret-dialog[open]');
  await page.click('#close-secret');
  const row = await stack.db('webhooks').where({ organization_id: org.id }).whereRaw("display_url like '%/paced'").first();
  expect(row.rate_limit).toBe(0.1);
  await page.waitForSelector(`${card(row.id)} .meta:has-text("Up to 0.1 deliveries/s")`);
  await waitFor(async () => (await webhookStatus(row.id)) === 'active', 'the ping (not paced)');

  // Two events: the first goes out, the second waits for its slot, and the log says when it goes out.
  for (let i = 0; i < 2; i++) {
    expect((await stack.api('POST', '/v1/events', org.serviceToken, { event: 'member.removed', data: { vaultId: 'vlt_8xK2mN', member: { id: 'usr_1' } } })).status).toBe(202);
  }
  const paced = await waitFor(async () => (await stack.db('deliveries').where({ webhook_id: row.id }).whereNotNull('paced_until').first()), 'a paced delivery');
  await page.click(`${card(row.id)} button:has-text("Delivery Log")`);
  const cell = `#deliveries tr[data-delivery="${paced.id}"] td[data-label="Last response"]`;
  await page.waitForSelector(`${cell}:has-text("Paced: goes out at")`);
  expect(await page.textContent(cell)).toBe(`Paced: goes out at ${paced.paced_until.toISOString().slice(0, 19).replace('T', ' ')} UTC`);
  expect(await page.textContent(`#deliveries tr[data-delivery="${paced.id}"] .badge`)).toBe('Pending');
  await page.click('#close-log');

  await page.click(`${card(row.id)} button:has-text("Edit")`);
  await page.waitForSelector('#editor-dialog[open]');
  expect(await page.inputValue('#rate-limit')).toBe('0.1');
  await page.fill('#rate-limit', '');
  await page.click('#save-webhook');
  await page.waitForSelector('#message:has-text("Saved.")');
  expect((await stack.api('GET', `/v1/webhooks/${row.id}`, org.apiKey)).body.rateLimit).toBeNull();
  await page.waitForFunction((sel) => !document.querySelector(sel)?.textContent?.includes('deliveries/s'), `${card(row.id)} .meta`);
});

it('deletes a webhook behind a confirmation, and closes its open Delivery Log', async () => {
  const { id } = await createWebhook(org, { url: `${receiver.url}/goodbye`, events: ['member.added'] });
  await refreshList(page);
  await page.click(`${card(id)} button:has-text("Delivery Log")`);
  await page.waitForSelector('#log:not([hidden])');
  await page.click(`${card(id)} button:has-text("Delete")`);
  await page.waitForSelector('#confirm-dialog[open]');
  expect(await page.textContent('#confirm-text')).toContain(`${receiver.url}/goodbye`);
  await page.click('#confirm-ok');
  await page.waitForSelector(`#message:has-text("Deleted the webhook to ${receiver.url}/goodbye")`);
  await page.waitForSelector(card(id), { state: 'detached' });
  expect(await page.isHidden('#log')).toBe(true);
  expect((await stack.db('webhooks').where({ id }).first()).deleted_at).not.toBeNull();
  await focused(page, '#webhooks-title'); // its row is gone: focus goes to the list's heading
});

it('connects Slack through its consent screen and comes back to the page with the channel', async () => {
  await refreshList(page);
  await page.click('#add-webhook');
  await page.check('input[name=destination][value=slack]');
  expect(await page.isVisible('#connect-slack')).toBe(true);
  expect(await page.isVisible('#secret')).toBe(false);
  await page.check('#events input[value="secret.deleted"]');
  await page.fill('#description', 'Security alerts');
  await Promise.all([page.waitForURL(/\/settings\/\?slackConnected=wh_/), page.click('#connect-slack')]);
  await page.waitForSelector('#message:has-text("Slack connected")');
  const created = await stack.db('webhooks').where({ organization_id: org.id, destination: 'slack' }).first();
  expect(created).toMatchObject({ slack_channel: '#page-alerts', description: 'Security alerts', events: ['secret.deleted'] });
  await page.waitForSelector(`${card(created.id)} .meta:has-text("Slack #page-alerts")`);
  // The URL is the credential: the page shows it redacted, never in full.
  expect(await page.textContent(`${card(created.id)} .webhook-url`)).not.toContain('slack-token');
  expect(await page.$(`${card(created.id)} button:has-text("Rotate secret")`)).toBeNull();
  await waitFor(() => receiver.requests.find((r) => r.path === '/services/T0FAKE/B0FAKE/slack-token'), 'the ping posted to the channel');
});

it('says "Failing for 2 days since …" with the last error once the health workflow has counted two failure days', async () => {
  const { id } = await createWebhook(org, { url: `${receiver.url}/failing-for-days`, events: ['vault.created'] });
  await waitFor(async () => (await webhookStatus(id)) === 'active', 'the ping');
  // The health workflow's real input: attempt outcomes in workflow time. Two days ago and yesterday failed
  // (each closed by the next day's outcome), and today too, so the streak stands at two closed failure days.
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  const handle = stack.client.workflow.getHandle(webhookHealthWorkflowId(id));
  const firstFailure = today - 2 * 86_400_000 + 10 * 3_600_000 + 14 * 60_000;
  for (const at of [firstFailure, today - 86_400_000 + 3_600_000, Math.min(today + 60_000, Date.now())]) {
    await handle.signal(attemptOutcomeSignal, { deliveryId: 'dlv_outcome', succeeded: false, at, status: 503, error: 'HTTP 503', lastSuccessAt: null });
  }
  await waitFor(async () => (await handle.query(webhookHealthQuery)).consecutiveFailureDays === 2, 'two failure days counted');

  await refreshList(page);
  const since = new Date(firstFailure).toISOString().slice(0, 16).replace('T', ' ');
  expect(await page.textContent(`${card(id)} .health`)).toBe(`Failing for 2 days since ${since} UTC · Last error: HTTP 503`);
  expect(await page.getAttribute(`${card(id)} .health`, 'class')).toContain('health-failing');
  expect(await page.textContent(`${card(id)} .badge`)).toBe('Active'); // still delivering: the third day would disable it
  await screenshot(page, 'settings-list.png');
});
