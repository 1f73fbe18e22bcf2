/**
 * Slack and Discord destinations on real parts: "Connect to Slack" (OAuth v2, scope incoming-webhook)
 * against a local fake of Slack's API, the message each destination receives for every event type,
 * and a 429 Retry-After from Slack or Discord on Temporal's time-skipping server.
 */
import { randomBytes } from 'node:crypto';
import { Receiver, ReceivedRequest } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';
import { SUBSCRIBABLE_EVENT_TYPES, type EventType } from '../src/domain/events';
import { type SlackBlock, type SlackMessage } from '../src/destinations/slack-message';
import { type DiscordMessage } from '../src/destinations/discord-message';
import { SecretBox } from '../src/domain/secret-box';
import { deriveStateKey, signState, STATE_TTL_MS, verifyState } from '../src/integrations/slack-oauth';
import { deliveryProgressQuery, deliveryWorkflowId } from '../src/workflows/messages';
import { expectDiscordWithinLimits, expectSlackWithinLimits, slackParts } from './support/message-limits';

const SIGNATURE_HEADER = 'x-cloudkeep-signature-256';
const json = (body: unknown) => ({ status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) });
const parse = (r: ReceivedRequest) => JSON.parse(r.body);

describe('OAuth state', () => {
  const key = deriveStateKey(randomBytes(32));
  const claims = { requestId: 'slo_abc', organizationId: 'org_xyz', expiresAt: 1_900_000_000_000 };

  it('round-trips what it signed', () => {
    expect(verifyState(key, signState(key, claims))).toEqual(claims);
  });

  it('refuses an altered, re-keyed or malformed state', () => {
    const state = signState(key, claims);
    const [v, r, o, e, sig] = state.split('.');
    expect(verifyState(key, [v, r, 'org_other', e, sig].join('.'))).toBeNull();
    expect(verifyState(key, [v, r, o, String(Number(e) + 3600), sig].join('.'))).toBeNull();
    expect(verifyState(key, [v, 'slo_other', o, e, sig].join('.'))).toBeNull();
    expect(verifyState(key, [v, r, o, e, sig!.slice(0, -4)].join('.'))).toBeNull();
    expect(verifyState(deriveStateKey(randomBytes(32)), state)).toBeNull();
    for (const junk of ['', 'state', `${state}.x`, state.replace('v1.', 'v2.'), 'v1.a.b.notanumber.c']) expect(verifyState(key, junk)).toBeNull();
  });
});

describe('Slack and Discord on a whole stack', () => {
  const CLIENT_ID = '1234567890.0987654321';
  const CLIENT_SECRET = 'fake-slack-client-secret';
  const REDIRECT_URL = 'https://app.cloudkeep.test/settings/webhooks/slack/callback';
  /** The encryption key before the current one, still in the key ring (a rotation in progress). */
  const PREVIOUS_KEY = SecretBox.generateKey();

  let stack: Stack;
  /** The fake of slack.com: the consent page's address and `/api/oauth.v2.access`. */
  let slackApi: Receiver;
  /** Where the fake Slack's incoming webhooks point. */
  let slackHooks: Receiver;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    slackHooks = await new Receiver(() => ({ status: 200, body: 'ok' })).start();
    slackApi = await new Receiver((req) => {
      if (req.method !== 'POST' || req.path !== '/api/oauth.v2.access') return { status: 404, body: 'not found' };
      const form = new URLSearchParams(req.body);
      if (form.get('client_id') !== CLIENT_ID || form.get('client_secret') !== CLIENT_SECRET) return json({ ok: false, error: 'invalid_client' });
      if (form.get('redirect_uri') !== REDIRECT_URL) return json({ ok: false, error: 'bad_redirect_uri' });
      const code = form.get('code') ?? '';
      // A good code names its channel: "good-alerts" gives #good-alerts and a webhook URL of its own.
      if (!code.startsWith('good-')) return json({ ok: false, error: 'invalid_code' });
      return json({
        ok: true,
        app_id: 'A0FAKE',
        access_token: 'xoxb-fake-token',
        token_type: 'bot',
        scope: 'incoming-webhook',
        team: { id: 'T0FAKE', name: 'Fake workspace' },
        incoming_webhook: { channel: `#${code}`, channel_id: 'C0FAKE', configuration_url: 'https://fake.slack.test/services/B0FAKE', url: `${slackHooks.url}/services/T0FAKE/B${code}/tok-${code}` },
      });
    }).start();
    receivers.push(slackHooks, slackApi);
    stack = await createStack({
      env: {
        SLACK_CLIENT_ID: CLIENT_ID,
        SLACK_CLIENT_SECRET: CLIENT_SECRET,
        SLACK_REDIRECT_URL: REDIRECT_URL,
        SLACK_API_URL: `${slackApi.url}/api`,
        SLACK_AUTHORIZE_URL: `${slackApi.url}/oauth/v2/authorize`,
        SECRET_DECRYPTION_KEYS: PREVIOUS_KEY,
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    for (const r of receivers) await r.stop();
  });

  const oauthCalls = () => slackApi.requests.filter((r) => r.path === '/api/oauth.v2.access').length;

  async function authorize(org: Org, body: unknown = { events: ['secret.created'] }) {
    const res = await stack.api('POST', '/v1/integrations/slack/authorize', org.apiKey, body);
    expect(res.status).toBe(201);
    return res.body as { authorizeUrl: string; state: string; expiresAt: string };
  }

  function callback(query: Record<string, string>, token: string | null = null) {
    return stack.api('GET', `/v1/integrations/slack/callback?${new URLSearchParams(query)}`, token);
  }

  /** The key the stack signs states with, derived as the service does: to sign states a client could not. */
  const realStateKey = () => deriveStateKey(Buffer.from(stack.config.secretEncryptionKey!, 'base64'));

  function expectStateProblem(res: { status: number; contentType: string; body: any }, status: number, detail: RegExp) {
    expect(res.status).toBe(status);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.status).toBe(status);
    expect(res.body.detail).toMatch(detail);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'query.state' })]);
  }

  describe('Connect to Slack (OAuth v2)', () => {
    it('a good code becomes a Slack webhook whose deliveries post Block Kit to the channel, and its state cannot be used twice', async () => {
      const org = await stack.createOrg();
      const before = Date.now();
      const started = await authorize(org, { events: ['secret.created', 'vault.deleted'], description: 'Security alerts' });

      const url = new URL(started.authorizeUrl);
      expect(`${url.origin}${url.pathname}`).toBe(`${slackApi.url}/oauth/v2/authorize`);
      expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: CLIENT_ID, scope: 'incoming-webhook', redirect_uri: REDIRECT_URL, state: started.state });
      expect(Date.parse(started.expiresAt)).toBeGreaterThanOrEqual(before + STATE_TTL_MS - 1000);
      expect(Date.parse(started.expiresAt)).toBeLessThanOrEqual(Date.now() + STATE_TTL_MS);
      const pending = await stack.db('slack_oauth_requests').where({ organization_id: org.id });
      expect(pending).toEqual([expect.objectContaining({ events: ['secret.created', 'vault.deleted'], description: 'Security alerts', vault_ids: null, used_at: null })]);

      // Slack redirects the user's browser here: no API key on the request.
      const calls = oauthCalls();
      const res = await callback({ code: 'good-alerts', state: started.state });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ destination: 'slack', slackChannel: '#good-alerts', events: ['secret.created', 'vault.deleted'], description: 'Security alerts', vaultIds: null });
      expect(res.body.url).toBe(`${slackHooks.url}/services/T0FAKE/Bgood-alerts/••••••`);
      expect(res.body).not.toHaveProperty('secret');

      // The token exchange Slack received: form-encoded, with the app's credentials and the same redirect URL.
      expect(oauthCalls()).toBe(calls + 1);
      const exchange = slackApi.requests.filter((r) => r.path === '/api/oauth.v2.access').at(-1)!;
      expect(exchange.headers['content-type']).toContain('application/x-www-form-urlencoded');
      expect(Object.fromEntries(new URLSearchParams(exchange.body))).toEqual({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, code: 'good-alerts', redirect_uri: REDIRECT_URL });
      const used = await stack.db('slack_oauth_requests').where({ organization_id: org.id }).first();
      expect(used.used_at).toBeInstanceOf(Date);
      expect(used.webhook_id).toBe(res.body.id);

      // The webhook is a working one: its ping reaches the channel, then an ingested event does.
      const hookPath = '/services/T0FAKE/Bgood-alerts/tok-good-alerts';
      await waitFor(async () => (await stack.api('GET', `/v1/webhooks/${res.body.id}`, org.apiKey)).body.status === 'active', 'the Slack webhook to turn active after its ping');
      const ingest = await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', timestamp: '2025-06-11T10:30:00Z', data: secretCreatedData });
      expect(ingest.status).toBe(202);
      expect(ingest.body.deliveries).toBe(1);
      const post = await waitFor(
        () => slackHooks.requests.find((r) => r.path === hookPath && parse(r).blocks?.[0]?.text?.text === 'secret.created'),
        'the secret.created message at the incoming-webhook URL',
      );
      const message = parse(post) as SlackMessage;
      expect(message.text).toBe('secret.created: NEW_API_KEY in Production by Jane Developer');
      expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
      expect((message.blocks[1] as Extract<SlackBlock, { type: 'section' }>).fields!.map((f) => f.text)).toContain('*Secret key*\nNEW_API_KEY');
      expect(post.headers[SIGNATURE_HEADER]).toBeUndefined();
      expect(slackHooks.requests.filter((r) => r.path === hookPath).map((r) => parse(r).blocks[0].text.text)).toEqual(['ping', 'secret.created']);

      // The same state again (a replayed redirect) is refused, and Slack is not asked again.
      const again = await callback({ code: 'good-alerts', state: started.state });
      expectStateProblem(again, 409, /already been used/);
      expect(oauthCalls()).toBe(calls + 1);
    });

    it("sends the user's browser on to the settings page once Slack is connected", async () => {
      const org = await stack.createOrg();
      const { state } = await authorize(org);
      const res = await fetch(`${stack.apiUrl}/v1/integrations/slack/callback?${new URLSearchParams({ code: 'good-browser', state })}`, {
        headers: { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
        redirect: 'manual',
      });
      expect(res.status).toBe(303);
      const [created] = await stack.db('webhooks').where({ organization_id: org.id });
      expect(created).toMatchObject({ destination: 'slack', slack_channel: '#good-browser' });
      expect(res.headers.get('location')).toBe(`/settings/?slackConnected=${created.id}`);
    });

    it('refuses a forged or altered state without asking Slack', async () => {
      const org = await stack.createOrg();
      const other = await stack.createOrg('Other');
      const { state } = await authorize(org);
      const [v, requestId, orgId, exp, sig] = state.split('.');
      const calls = oauthCalls();

      const forged = [
        'not-a-state',
        [v, requestId, other.id, exp, sig].join('.'), // moved to another organization
        [v, requestId, orgId, String(Number(exp) + 86_400), sig].join('.'), // lifetime extended
        [v, requestId, orgId, exp, (sig!.startsWith('A') ? 'B' : 'A') + sig!.slice(1)].join('.'), // signature altered
        signState(deriveStateKey(randomBytes(32)), { requestId: requestId!, organizationId: orgId!, expiresAt: Date.now() + 60_000 }), // another key
      ];
      for (const s of forged) expectStateProblem(await callback({ code: 'good-forged', state: s }), 400, /not a state this service issued/);
      // Signed with the real key but naming no authorisation in progress.
      const unknown = signState(realStateKey(), { requestId: 'slo_doesnotexist', organizationId: org.id, expiresAt: Date.now() + 60_000 });
      expectStateProblem(await callback({ code: 'good-forged', state: unknown }), 400, /does not match any Slack authorisation/);
      const missing = await callback({ code: 'good-forged' } as never);
      expect(missing.status).toBe(400);
      expect(missing.body.errors).toEqual([expect.objectContaining({ field: 'query.state' })]);

      expect(oauthCalls()).toBe(calls);
      expect((await stack.db('slack_oauth_requests').where({ id: requestId }).first()).used_at).toBeNull();
      expect((await stack.api('GET', '/v1/webhooks', org.apiKey)).body.data).toEqual([]);
    });

    it('refuses an expired state, whether the request row or the signed expiry says so', async () => {
      const org = await stack.createOrg();
      const { state } = await authorize(org);
      const [, requestId] = state.split('.');
      await stack.db('slack_oauth_requests').where({ id: requestId }).update({ expires_at: new Date(Date.now() - 1000) });
      const calls = oauthCalls();
      const res = await callback({ code: 'good-expired', state });
      expectStateProblem(res, 400, /has expired/);
      expect(res.body.type).toBe('https://cloudkeep.io/problems/state-expired');

      // A validly signed state whose own expiry has passed, for a row that has not.
      const second = await authorize(org);
      const [, secondId] = second.state.split('.');
      const stale = signState(realStateKey(), { requestId: secondId!, organizationId: org.id, expiresAt: Date.now() - 1000 });
      expectStateProblem(await callback({ code: 'good-expired', state: stale }), 400, /has expired/);

      expect(oauthCalls()).toBe(calls);
      expect((await stack.api('GET', '/v1/webhooks', org.apiKey)).body.data).toEqual([]);
    });

    it('accepts a state another API process signed with the previous encryption key, mid-rotation', async () => {
      const org = await stack.createOrg();
      const { state } = await authorize(org);
      const [, requestId, organizationId, expires] = state.split('.');
      const claims = { requestId: requestId!, organizationId: organizationId!, expiresAt: Number(expires) * 1000 };
      const signedBefore = signState(deriveStateKey(Buffer.from(PREVIOUS_KEY, 'base64')), claims);
      expect(signedBefore).not.toBe(state);
      const res = await callback({ code: 'good-rotation', state: signedBefore });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ destination: 'slack', slackChannel: '#good-rotation' });
    });

    it("refuses another organization's key on the callback, and the owner can still finish", async () => {
      const owner = await stack.createOrg('Owner');
      const intruder = await stack.createOrg('Intruder');
      const { state } = await authorize(owner, { events: ['member.added'] });
      const calls = oauthCalls();

      const refused = await callback({ code: 'good-owner', state }, intruder.apiKey);
      expectStateProblem(refused, 403, /another organization/);
      const ingestToken = await callback({ code: 'good-owner', state }, owner.serviceToken);
      expect(ingestToken.status).toBe(403);
      expect(oauthCalls()).toBe(calls);

      const res = await callback({ code: 'good-owner', state }, owner.apiKey);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ destination: 'slack', slackChannel: '#good-owner', events: ['member.added'] });
      expect((await stack.api('GET', `/v1/webhooks/${res.body.id}`, owner.apiKey)).status).toBe(200);
      expect((await stack.api('GET', `/v1/webhooks/${res.body.id}`, intruder.apiKey)).status).toBe(404);
    });

    it("turns Slack's {ok:false, error:'invalid_code'} into a clear 502 and creates nothing", async () => {
      const org = await stack.createOrg();
      const { state } = await authorize(org);
      const calls = oauthCalls();
      const res = await callback({ code: 'stale-code', state });
      expect(res.status).toBe(502);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body.detail).toMatch(/Slack refused the authorisation code: invalid_code/);
      expect(res.body.errors).toEqual([{ field: 'query.code', message: 'Slack answered invalid_code' }]);
      expect(oauthCalls()).toBe(calls + 1);
      expect((await stack.api('GET', '/v1/webhooks', org.apiKey)).body.data).toEqual([]);
      // Slack's codes are single-use, and so is the state: the user starts again.
      expectStateProblem(await callback({ code: 'good-retry', state }), 409, /already been used/);
    });

    it('reports a cancelled consent screen (error=access_denied) and validates the authorize request', async () => {
      const org = await stack.createOrg();
      const { state } = await authorize(org);
      const denied = await callback({ error: 'access_denied', state });
      expect(denied.status).toBe(400);
      expect(denied.body.errors).toEqual([{ field: 'query.error', message: 'Slack answered access_denied' }]);

      const empty = await stack.api('POST', '/v1/integrations/slack/authorize', org.apiKey, { events: [] });
      expect(empty.status).toBe(400);
      expect(empty.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.events']);
      const ping = await stack.api('POST', '/v1/integrations/slack/authorize', org.apiKey, { events: ['ping'] });
      expect(ping.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.events.0']);
      const extra = await stack.api('POST', '/v1/integrations/slack/authorize', org.apiKey, { events: ['secret.created'], url: 'https://x.test' });
      expect(extra.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.url']);
      expect((await stack.api('POST', '/v1/integrations/slack/authorize', org.serviceToken, { events: ['secret.created'] })).status).toBe(403);
      expect((await stack.api('POST', '/v1/integrations/slack/authorize', null, { events: ['secret.created'] })).status).toBe(401);
      expect(Object.keys(stack.openapi.paths ?? {})).toEqual(expect.arrayContaining(['/v1/integrations/slack/authorize', '/v1/integrations/slack/callback']));
    });
  });

  describe('messages for every event type', () => {
    const TIMESTAMP = '2025-06-11T10:30:00Z';
    const SLACK_TIME = '<!date^1749637800^{date_short_pretty} at {time}|2025-06-11T10:30:00.000Z>';
    const GREEN = 0x2ecc71;
    const YELLOW = 0xf1c40f;
    const RED = 0xe74c3c;
    const GREY = 0x95a5a6;
    const COLOURS: Record<EventType, number> = {
      'secret.created': GREEN, 'secret.updated': YELLOW, 'secret.deleted': RED,
      'vault.created': GREEN, 'vault.updated': YELLOW, 'vault.deleted': RED,
      'member.added': GREEN, 'member.removed': RED, ping: GREY,
    };
    // Exactly 10,000 UTF-16 units, with characters both formats must escape and a surrogate pair.
    const LONG = 'K&<*_😀'.repeat(1428) + 'K&<*';
    const actor = { id: 'usr_1xA2bC', name: 'Jane Developer' };
    const member = { id: 'usr_9zY8xW', name: 'Sam Ops', role: 'admin' };

    function sampleData(event: EventType, long: boolean): Record<string, unknown> {
      const vault = { vaultId: 'vlt_8xK2mN', vaultName: long ? LONG : 'Production' };
      const who = long ? { ...actor, name: LONG } : actor;
      switch (event.split('.')[0]) {
        case 'secret':
          return { ...vault, secretId: 'sec_5bC8eF', secretKey: long ? LONG : 'NEW_API_KEY', type: 'api_key', actor: who };
        case 'vault':
          return { ...vault, actor: who };
        default:
          return { ...vault, member: long ? { ...member, name: LONG } : member, actor: who };
      }
    }

    const SLACK_LABELS: Record<string, string[]> = {
      secret: ['Vault', 'Secret key', 'Secret type', 'Actor', 'Time'],
      vault: ['Vault', 'Actor', 'Time'],
      member: ['Vault', 'Member', 'Actor', 'Time'],
      ping: ['Webhook', 'Time'],
    };
    const DISCORD_NAMES: Record<string, string[]> = {
      secret: ['Vault', 'Secret key', 'Secret type', 'Actor', 'Event ID'],
      vault: ['Vault', 'Actor', 'Event ID'],
      member: ['Vault', 'Member', 'Actor', 'Event ID'],
      ping: ['Webhook', 'Event ID'],
    };

    it('Slack gets Block Kit and Discord one colour-coded embed, within limits, unsigned, without a value, for every event and the ping', async () => {
      const org = await stack.createOrg();
      const slack = await new Receiver(() => ({ status: 200, body: 'ok' })).start();
      const discord = await new Receiver(() => ({ status: 204 })).start();
      receivers.push(slack, discord);
      const slackPath = '/services/T1/B1/slack-token-123';
      const discordPath = '/api/webhooks/42/discord-token-456';

      const created: Record<'slack' | 'discord', { id: string; secret: string }> = {} as never;
      for (const [destination, url] of [['slack', slack.url + slackPath], ['discord', discord.url + discordPath]] as const) {
        const res = await stack.api('POST', '/v1/webhooks', org.apiKey, { url, destination, events: [...SUBSCRIBABLE_EVENT_TYPES] });
        expect(res.status).toBe(201);
        expect(res.body.destination).toBe(destination);
        expect(res.body.url).not.toContain('token'); // the path's token is the credential: shown redacted
        created[destination] = { id: res.body.id, secret: res.body.secret };
      }

      // A secret's value never gets as far as a message: ingest refuses it.
      const withValue = await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.updated', data: { ...secretCreatedData, value: 'hunter2-canary' } });
      expect(withValue.status).toBe(422);
      expect(withValue.body.errors).toEqual([expect.objectContaining({ field: 'data.value' })]);

      const sent: { id: string; event: EventType; long: boolean }[] = [];
      for (const [i, event] of SUBSCRIBABLE_EVENT_TYPES.entries()) {
        for (const long of [false, true]) {
          const id = `evt_fmt${long ? 'L' : 'N'}${i}`;
          const res = await stack.api('POST', '/v1/events', org.serviceToken, { id, event, timestamp: TIMESTAMP, data: sampleData(event, long) });
          expect(res.status).toBe(202);
          expect(res.body.deliveries).toBe(2);
          sent.push({ id, event, long });
        }
      }
      const expected = sent.length + 1; // and the creation ping
      await waitFor(() => slack.requests.length >= expected && discord.requests.length >= expected, `${expected} messages at each fake`, 90_000);

      const slackById = new Map<string, ReceivedRequest>();
      for (const r of slack.requests) {
        expect(r.path).toBe(slackPath);
        const m = parse(r) as SlackMessage;
        slackById.set(slackParts(m).context.elements[0]!.text.replace(/^Event `(.*)`$/, '$1'), r);
      }
      const discordById = new Map<string, ReceivedRequest>();
      for (const r of discord.requests) {
        expect(r.path).toBe(discordPath);
        const m = parse(r) as DiscordMessage;
        expect(m.embeds).toHaveLength(1);
        discordById.set(m.embeds[0]!.fields.find((f) => f.name === 'Event ID')!.value.replace(/\\/g, ''), r);
      }
      const pingIds = (await stack.db('events').where({ organization_id: org.id, type: 'ping' })).map((e: { id: string }) => e.id);
      expect(pingIds).toHaveLength(2);
      const all = [...sent, ...pingIds.map((id: string) => ({ id, event: 'ping' as EventType, long: false }))];

      for (const r of [...slack.requests, ...discord.requests]) {
        expect(r.headers['content-type']).toBe('application/json');
        expect(r.headers[SIGNATURE_HEADER]).toBeUndefined();
        expect(r.headers['x-cloudkeep-event']).toBeUndefined();
        expect(r.body).not.toContain('hunter2');
        expect(r.body).not.toContain(created.slack.secret);
        expect(r.body).not.toContain(created.discord.secret);
      }

      let slackPings = 0;
      let discordPings = 0;
      for (const { id, event, long } of all) {
        const family = event === 'ping' ? 'ping' : event.split('.')[0]!;

        // Slack: Block Kit, header = event type, a labelled field per piece of metadata, the event id in context.
        const slackRequest = slackById.get(id);
        if (event === 'ping' && !slackRequest) continue; // each webhook has its own ping
        if (event === 'ping') slackPings++;
        expect(slackRequest).toBeDefined();
        const sm = parse(slackRequest!) as SlackMessage & { attachments?: unknown };
        const { header, section } = slackParts(sm);
        expect(header.text).toEqual({ type: 'plain_text', text: event });
        expect(section.fields!.map((f) => /^\*([^*]+)\*\n/.exec(f.text)?.[1])).toEqual(SLACK_LABELS[family]);
        expect(sm.attachments).toBeUndefined();
        expectSlackWithinLimits(sm);
        if (long) expect(sm.text).toContain('…');
        if (event === 'ping') {
          expect(section.fields![0]!.text).toBe(`*Webhook*\n\`${created.slack.id}\``);
        } else if (!long) {
          expect(section.fields!.at(-1)!.text).toBe(`*Time*\n${SLACK_TIME}`);
          expect(section.fields![0]!.text).toBe('*Vault*\nProduction (`vlt_8xK2mN`)');
          const subject = family === 'secret' ? 'NEW_API_KEY in Production' : family === 'member' ? 'Sam Ops in Production' : 'Production';
          expect(sm.text).toBe(`${event}: ${subject} by Jane Developer`);
        }
      }

      for (const { id, event, long } of all) {
        const family = event === 'ping' ? 'ping' : event.split('.')[0]!;
        const discordRequest = discordById.get(id);
        if (event === 'ping' && !discordRequest) continue;
        if (event === 'ping') discordPings++;
        expect(discordRequest).toBeDefined();
        const dm = parse(discordRequest!) as DiscordMessage;
        const embed = dm.embeds[0]!;
        expect(embed.color).toBe(COLOURS[event]);
        expect(embed.title.startsWith(event)).toBe(true);
        expect(embed.fields.map((f) => f.name)).toEqual(DISCORD_NAMES[family]);
        expect(embed.footer).toEqual({ text: 'CloudKeep Webhooks' });
        expect(dm.allowed_mentions).toEqual({ parse: [] });
        expectDiscordWithinLimits(embed);
        if (long) expect(embed.description).toContain('…');
        if (event === 'ping') {
          expect(embed.fields[0]!.value.replace(/\\/g, '')).toBe(created.discord.id);
        } else {
          expect(embed.timestamp).toBe('2025-06-11T10:30:00.000Z');
          if (!long) {
            expect(embed.fields[0]).toEqual({ name: 'Vault', value: 'Production (vlt\\_8xK2mN)', inline: true });
            const subject = family === 'secret' ? 'NEW_API_KEY' : family === 'member' ? 'Sam Ops' : 'Production';
            expect(embed.title).toBe(`${event} · ${subject}`);
          }
        }
      }
      expect([slackPings, discordPings]).toEqual([1, 1]);
      expect(slack.requests).toHaveLength(expected);
      expect(discord.requests).toHaveLength(expected);
    });
  });
});

describe('429 Retry-After from Slack and Discord (time-skipping)', () => {
  const MINUTE = 60_000;
  const SLACK_MS = 15_000; // real time spent in an attempt adds to workflow time
  let stack: Stack;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    stack = await createStack({ timeSkipping: true });
  });
  afterAll(async () => {
    await stack?.close();
    for (const r of receivers) await r.stop();
  });

  const isPing = (r: ReceivedRequest) => {
    const body = parse(r);
    return body.blocks?.[0]?.text?.text === 'ping' || body.embeds?.[0]?.title === 'ping';
  };

  /** Answers the ping, rate-limits the first event message with `retryAfter` (seconds), then accepts. */
  async function rateLimitedReceiver(retryAfter: string): Promise<Receiver> {
    let events = 0;
    const r = await new Receiver((req) => {
      if (isPing(req)) return { status: 200, body: 'ok' };
      if (++events > 1) return { status: 200, body: 'ok' };
      return { status: 429, headers: { 'Retry-After': retryAfter, 'Content-Type': 'application/json' }, body: JSON.stringify({ message: 'You are being rate limited.', retry_after: Number(retryAfter), global: false }) };
    }).start();
    receivers.push(r);
    return r;
  }

  const attemptsOf = (deliveryId: string) => stack.db('delivery_attempts').where({ delivery_id: deliveryId }).orderBy('number');

  /**
   * One event to one Slack or Discord webhook whose endpoint answers the first message 429. Time stays
   * locked (real time) while attempts run, and is skipped only by `env.sleep` once the delivery waits on
   * its timer: awaiting `result()` would let the server jump to another workflow's timer (the health
   * workflow's end of day) in the middle of an attempt, since a running activity does not hold time.
   */
  async function rateLimitedDelivery(destination: 'slack' | 'discord', retryAfter: string, skipMs: number) {
    const org = await stack.createOrg();
    const receiver = await rateLimitedReceiver(retryAfter);
    const url = destination === 'slack' ? `${receiver.url}/services/T1/B1/tok` : `${receiver.url}/api/webhooks/1/tok`;
    const { webhook } = await stack.services.webhooks.create(org.id, { url, destination, events: ['secret.updated'] });
    await waitFor(async () => (await stack.db('webhooks').where({ id: webhook.id }).first()).status === 'active', 'the creation ping to succeed');

    const ingest = await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.updated', data: secretCreatedData });
    expect(ingest.status).toBe(202);
    expect(ingest.body.deliveries).toBe(1);
    const delivery = await waitFor(async () => (await stack.db('deliveries').where({ event_id: ingest.body.id }))[0], 'the delivery row');
    const handle = stack.client.workflow.getHandle(deliveryWorkflowId(delivery.id));
    const waiting = await waitFor(async () => {
      const p = await handle.query(deliveryProgressQuery);
      return p.status === 'retrying' && p.nextAttemptAt ? p : null;
    }, 'the delivery to wait after the 429');
    const [first] = await attemptsOf(delivery.id);
    const plannedDelay = Date.parse(waiting.nextAttemptAt!) - first.attempted_at.getTime();

    await stack.env!.sleep(skipMs);
    const done = await waitFor(async () => {
      const p = await handle.query(deliveryProgressQuery);
      return p.status === 'succeeded' ? p : null;
    }, 'the second attempt to succeed');
    return { org, receiver, delivery, plannedDelay, done, attempts: await attemptsOf(delivery.id) };
  }

  const gap = (attempts: { attempted_at: Date }[]) => attempts[1]!.attempted_at.getTime() - attempts[0]!.attempted_at.getTime();

  it('without Slack settings, "Connect to Slack" answers 503 instead of failing', async () => {
    const org = await stack.createOrg();
    for (const res of [
      await stack.api('POST', '/v1/integrations/slack/authorize', org.apiKey, { events: ['secret.created'] }),
      await stack.api('GET', '/v1/integrations/slack/callback?code=abc&state=def', null),
    ]) {
      expect(res.status).toBe(503);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body.detail).toMatch(/^Slack integration is not configured/);
    }
  });

  it.each(['slack', 'discord'] as const)('a 429 with Retry-After: 120 from %s delays the next attempt to at least 120 s (the schedule says 1 min)', async (destination) => {
    const { org, receiver, delivery, plannedDelay, done, attempts } = await rateLimitedDelivery(destination, '120', 125_000);

    expect(plannedDelay).toBeGreaterThanOrEqual(120_000);
    expect(plannedDelay).toBeLessThan(120_000 + SLACK_MS);
    expect(done.scheduledAttempts).toBe(2);
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toMatchObject({ response_status: 429, succeeded: false, retry_after_ms: 120_000, error: 'HTTP 429' });
    expect(attempts[1]).toMatchObject({ response_status: 200, succeeded: true });
    expect(gap(attempts)).toBeGreaterThanOrEqual(120_000);
    expect(gap(attempts)).toBeLessThan(120_000 + SLACK_MS);

    const detail = await stack.api('GET', `/v1/deliveries/${delivery.id}`, org.apiKey);
    expect(detail.body.status).toBe('succeeded');
    expect(detail.body.attempts.map((a: { retryAfterMs: number | null }) => a.retryAfterMs)).toEqual([120_000, null]);
    const sends = receiver.requests.filter((q) => !isPing(q));
    expect(sends).toHaveLength(2);
    expect(sends[1]!.body).toBe(sends[0]!.body); // the same message, re-sent
  });

  it('a Retry-After shorter than the schedule leaves the 1-minute retry in charge', async () => {
    const { plannedDelay, attempts } = await rateLimitedDelivery('discord', '5', 65_000);
    expect(attempts[0]).toMatchObject({ response_status: 429, retry_after_ms: 5_000 });
    expect(plannedDelay).toBeGreaterThanOrEqual(MINUTE);
    expect(plannedDelay).toBeLessThan(MINUTE + SLACK_MS);
    expect(gap(attempts)).toBeGreaterThanOrEqual(MINUTE);
    expect(gap(attempts)).toBeLessThan(MINUTE + SLACK_MS);
  });
});
