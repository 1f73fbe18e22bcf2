/**
 * Settings → Webhooks in a real browser (Debian's Chromium driven by playwright-core) against the real stack.
 */
import { chromium, Browser, Page } from 'playwright-core';
import { Receiver } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';
import { chromiumPath } from '../scripts/prepare-test-servers';

let stack: Stack;
let receiver: Receiver;
let org: Org;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  stack = await createStack();
  receiver = await new Receiver().start();
  org = await stack.createOrg();
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
});
afterAll(async () => {
  await browser?.close();
  await receiver?.stop();
  await stack?.close();
});

it('adds a webhook, shows its secret once, sees it go active, tests it and reads its Delivery Log', async () => {
  await page.goto(`${stack.apiUrl}/settings/`);
  await page.fill('#api-key', org.apiKey);
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('#empty:not([hidden])');

  await page.click('#add-webhook');
  await page.fill('#url', `${receiver.url}/from-the-page`);
  await page.check('input[value="secret.created"]');
  await page.fill('#description', 'Deploy hook');
  await page.click('#webhook-form button[type=submit]');

  await page.waitForSelector('#secret-once:not([hidden])');
  const secret = await page.textContent('#secret-value');
  expect(secret).toMatch(/^whsec_/);
  const [row] = await stack.db('webhooks').where({ organization_id: org.id });
  expect(row.description).toBe('Deploy hook');
  expect(stack.secretBox.open(row.secret_ciphertext)).toBe(secret);

  // The ping reaches the receiver; a refresh shows the webhook active.
  await waitFor(async () => (await stack.db('webhooks').where({ id: row.id }).first()).status === 'active', 'the ping');
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('tr[data-webhook] .badge:has-text("active")');
  expect(receiver.requests.filter((r) => r.path === '/from-the-page')).toHaveLength(1);

  await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: secretCreatedData });
  await page.click('tr[data-webhook] button:has-text("Test")');
  await page.waitForSelector('#message:has-text("Ping sent")');

  await waitFor(async () => Number((await stack.db('deliveries').where({ webhook_id: row.id, status: 'succeeded' }).count('* as n').first())!.n) === 3, 'three deliveries');
  await page.click('tr[data-webhook] button:has-text("Delivery Log")');
  await page.waitForSelector('#deliveries tr[data-delivery] >> nth=2');
  const events = await page.$$eval('#deliveries tr[data-delivery] td:nth-child(2)', (cells) => cells.map((c) => c.textContent).sort());
  expect(events).toEqual(['ping', 'ping', 'secret.created']);

  await page.click('#deliveries tr[data-delivery]:has-text("secret.created") button:has-text("Attempts")');
  await page.waitForSelector('#attempts pre');
  expect(await page.textContent('#attempts pre')).toContain('X-CloudKeep-Signature-256');
  expect(await page.textContent('#log')).not.toContain(secret!); // the log never shows the secret
});

it('shows API errors with the field named', async () => {
  await page.click('#add-webhook');
  await page.fill('#url', `${receiver.url}/no-events`);
  await page.click('#webhook-form button[type=submit]');
  await page.waitForSelector('#message.error');
  expect(await page.textContent('#message')).toContain('body.events');
});
