import { EVENT_TYPES, eventDataSchemas } from '../domain/events';
import { sampleActor as actor, sampleData, oversizedData, sampleMember as member, samplePayload as sample } from './sample-payloads';
import { buildSlackMessage, mrkdwn, type SlackBlock, type SlackMessage } from './slack-message';
import { expectSlackWithinLimits } from '../../test/support/message-limits';

const TIME = '<!date^1749637800^{date_short_pretty} at {time}|2025-06-11T10:30:00.000Z>';

const blocksOf = (m: SlackMessage) => {
  const [header, section, context] = m.blocks as [
    Extract<SlackBlock, { type: 'header' }>,
    Extract<SlackBlock, { type: 'section' }>,
    Extract<SlackBlock, { type: 'context' }>,
  ];
  return { header, section, context };
};
const fieldTexts = (m: SlackMessage) => (blocksOf(m).section.fields ?? []).map((f) => f.text);

describe('buildSlackMessage', () => {
  it('sample payloads are valid events', () => {
    for (const event of EVENT_TYPES) expect(() => eventDataSchemas[event].parse(sampleData(event))).not.toThrow();
  });

  it.each(['secret.created', 'secret.updated', 'secret.deleted'] as const)('%s', (event) => {
    const m = buildSlackMessage(sample(event));
    expect(m.text).toBe(`${event}: NEW_API_KEY in Production by Jane Developer`);
    expect(m.blocks).toEqual([
      { type: 'header', text: { type: 'plain_text', text: event } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Vault*\nProduction (`vlt_8xK2mN`)' },
          { type: 'mrkdwn', text: '*Secret key*\nNEW_API_KEY' },
          { type: 'mrkdwn', text: '*Secret type*\napi_key' },
          { type: 'mrkdwn', text: '*Actor*\nJane Developer' },
          { type: 'mrkdwn', text: `*Time*\n${TIME}` },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Event `evt_7xM4nQ`' }] },
    ]);
  });

  it.each(['vault.created', 'vault.updated', 'vault.deleted'] as const)('%s', (event) => {
    const m = buildSlackMessage(sample(event));
    expect(m.text).toBe(`${event}: Production by Jane Developer`);
    expect(blocksOf(m).header.text).toEqual({ type: 'plain_text', text: event });
    expect(fieldTexts(m)).toEqual(['*Vault*\nProduction (`vlt_8xK2mN`)', '*Actor*\nJane Developer', `*Time*\n${TIME}`]);
    expect(blocksOf(m).context.elements).toEqual([{ type: 'mrkdwn', text: 'Event `evt_7xM4nQ`' }]);
  });

  it.each(['member.added', 'member.removed'] as const)('%s', (event) => {
    const m = buildSlackMessage(sample(event));
    expect(m.text).toBe(`${event}: Sam Ops in Production by Jane Developer`);
    expect(blocksOf(m).header.text).toEqual({ type: 'plain_text', text: event });
    expect(fieldTexts(m)).toEqual([
      '*Vault*\nProduction (`vlt_8xK2mN`)',
      '*Member*\nSam Ops (admin)',
      '*Actor*\nJane Developer',
      `*Time*\n${TIME}`,
    ]);
    expect(blocksOf(m).context.elements).toEqual([{ type: 'mrkdwn', text: 'Event `evt_7xM4nQ`' }]);
  });

  it('ping', () => {
    const m = buildSlackMessage(sample('ping'));
    expect(m).toEqual({
      text: 'ping: Hello from CloudKeep',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'ping' } },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: 'Hello from CloudKeep' },
          fields: [
            { type: 'mrkdwn', text: '*Webhook*\n`wh_3kP9qR`' },
            { type: 'mrkdwn', text: `*Time*\n${TIME}` },
          ],
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'Event `evt_7xM4nQ`' }] },
      ],
    });
  });

  it('falls back to email, then id, for people and to the id for an unnamed vault', () => {
    const m = buildSlackMessage(
      sample('member.added', { vaultId: 'vlt_1', member: { id: 'usr_2', email: 'a@b.c' }, actor: { id: 'usr_3' } }),
    );
    expect(m.text).toBe('member.added: a@b.c in vlt_1 by usr_3');
    expect(fieldTexts(m)).toEqual(['*Vault*\n(`vlt_1`)', '*Member*\na@b.c', '*Actor*\nusr_3', `*Time*\n${TIME}`]);
  });

  it('shows an unparseable timestamp as escaped text', () => {
    const m = buildSlackMessage({ ...sample('vault.deleted'), timestamp: 'not <a> date' });
    expect(fieldTexts(m)).toContain('*Time*\nnot &lt;a&gt; date');
  });

  it('escapes user text for mrkdwn so it cannot mention anyone', () => {
    const evil = '<@U123> & <!channel>';
    const escaped = '&lt;@U123&gt; &amp; &lt;!channel&gt;';
    const data = {
      vaultId: evil,
      vaultName: evil,
      secretId: 'sec_1',
      secretKey: evil,
      type: evil,
      actor: { id: 'usr_1', name: evil },
    };
    const m = buildSlackMessage({ ...sample('secret.updated', data), id: evil });
    expect(m.text).toBe(`secret.updated: ${escaped} in ${escaped} by ${escaped}`);
    expect(fieldTexts(m).slice(0, 4)).toEqual([
      `*Vault*\n${escaped} (\`${escaped}\`)`,
      `*Secret key*\n${escaped}`,
      `*Secret type*\n${escaped}`,
      `*Actor*\n${escaped}`,
    ]);
    expect(blocksOf(m).context.elements[0]!.text).toBe(`Event \`${escaped}\``);

    const ping = buildSlackMessage(sample('ping', { webhookId: evil, message: evil }));
    for (const json of [JSON.stringify(m), JSON.stringify(ping)]) {
      expect(json).not.toContain('<@U123>');
      expect(json).not.toContain('<!channel>');
      expect(json).not.toMatch(/&(?!amp;|lt;|gt;)/);
    }
  });

  it('never includes fields it does not know, such as a secret value', () => {
    for (const event of EVENT_TYPES) {
      const data = { ...sampleData(event), value: 'hunter2', secretValue: 'hunter2', actor: { ...actor, value: 'hunter2' } };
      if (event.startsWith('member')) Object.assign(data, { member: { ...member, plaintext: 'hunter2' } });
      expect(JSON.stringify(buildSlackMessage(sample(event, data)))).not.toContain('hunter2');
    }
  });

  describe('limits', () => {
    function expectWithinLimits(m: SlackMessage) {
      expectSlackWithinLimits(m);
      // Truncation never leaves half an entity or half a surrogate pair behind.
      const json = JSON.stringify(m);
      expect(json).not.toMatch(/&(?!amp;|lt;|gt;)/);
      expect(json).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    }

    // '&' grows 5x when escaped; the emoji is two UTF-16 units per character.
    it.each([
      ['plain', 'K'],
      ['escaped', '&'],
      ['mixed', 'a<'],
      ['emoji', '😀'],
    ])('a 10,000-character secret key and vault name (%s) stay within every limit', (_, unit) => {
      const long = unit.repeat(Math.ceil(10_000 / unit.length)).slice(0, 10_000);
      for (const event of EVENT_TYPES) {
        const data = oversizedData(event, long);
        const m = buildSlackMessage({ id: long, event, timestamp: long, data });
        expectWithinLimits(m);
        expect(m.text).toContain('…');
      }
    });
  });
});

describe('mrkdwn', () => {
  it('escapes &, < and >', () => {
    expect(mrkdwn('a & <b> c', 100)).toBe('a &amp; &lt;b&gt; c');
  });

  it('truncates after escaping, never splitting an entity', () => {
    expect(mrkdwn('&&&', 15)).toBe('&amp;&amp;&amp;');
    expect(mrkdwn('&&&', 14)).toBe('&amp;&amp;…');
    expect(mrkdwn('abcdef', 4)).toBe('abc…');
  });
});
