import { EVENT_TYPES, eventDataSchemas } from '../domain/events';
import { SAMPLE_TIMESTAMP as TIMESTAMP, sampleActor as actor, sampleData, oversizedData, sampleMember as member, samplePayload as sample, sampleVault as vault } from './sample-payloads';
import {
  buildDiscordMessage,
  COLOUR_CREATED,
  COLOUR_DELETED,
  COLOUR_NEUTRAL,
  COLOUR_UPDATED,

  embedColour,
  type DiscordEmbed,
  type DiscordMessage,
} from './discord-message';
import { expectDiscordWithinLimits } from '../../test/support/message-limits';

const ISO = '2025-06-11T10:30:00.000Z';

const embedOf = (m: DiscordMessage): DiscordEmbed => {
  expect(m.embeds).toHaveLength(1);
  return m.embeds[0]!;
};

// Markdown escapes as Discord receives them: "NEW\_API\_KEY" renders as NEW_API_KEY.
const field = (name: string, value: string) => ({ name, value, inline: true });
const VAULT = field('Vault', 'Production (vlt\\_8xK2mN)');
const ACTOR = field('Actor', 'Jane Developer');
const EVENT_ID = field('Event ID', 'evt\\_7xM4nQ');

describe('embedColour', () => {
  it.each([
    ['secret.created', COLOUR_CREATED],
    ['secret.updated', COLOUR_UPDATED],
    ['secret.deleted', COLOUR_DELETED],
    ['vault.created', COLOUR_CREATED],
    ['vault.updated', COLOUR_UPDATED],
    ['vault.deleted', COLOUR_DELETED],
    ['member.added', COLOUR_CREATED],
    ['member.removed', COLOUR_DELETED],
    ['ping', COLOUR_NEUTRAL],
  ] as const)('%s', (event, colour) => {
    expect(embedColour(event)).toBe(colour);
  });

  it('uses the documented colours', () => {
    expect([COLOUR_CREATED, COLOUR_UPDATED, COLOUR_DELETED, COLOUR_NEUTRAL]).toEqual([0x2ecc71, 0xf1c40f, 0xe74c3c, 0x95a5a6]);
  });
});

describe('buildDiscordMessage', () => {
  it('sample payloads are valid events', () => {
    for (const event of EVENT_TYPES) expect(() => eventDataSchemas[event].parse(sampleData(event))).not.toThrow();
  });

  it.each([
    ['secret.created', 'created', COLOUR_CREATED],
    ['secret.updated', 'updated', COLOUR_UPDATED],
    ['secret.deleted', 'deleted', COLOUR_DELETED],
  ] as const)('%s', (event, verb, colour) => {
    expect(buildDiscordMessage(sample(event))).toEqual({
      embeds: [
        {
          title: `${event} · NEW_API_KEY`,
          description: `Secret **NEW\\_API\\_KEY** was ${verb} in vault **Production** by Jane Developer.`,
          color: colour,
          fields: [VAULT, field('Secret key', 'NEW\\_API\\_KEY'), field('Secret type', 'api\\_key'), ACTOR, EVENT_ID],
          timestamp: ISO,
          footer: { text: 'CloudKeep Webhooks' },
        },
      ],
      allowed_mentions: { parse: [] },
    });
  });

  it.each([
    ['vault.created', 'created', COLOUR_CREATED],
    ['vault.updated', 'updated', COLOUR_UPDATED],
    ['vault.deleted', 'deleted', COLOUR_DELETED],
  ] as const)('%s', (event, verb, colour) => {
    const m = buildDiscordMessage(sample(event));
    expect(m.allowed_mentions).toEqual({ parse: [] });
    expect(embedOf(m)).toEqual({
      title: `${event} · Production`,
      description: `Vault **Production** was ${verb} by Jane Developer.`,
      color: colour,
      fields: [VAULT, ACTOR, EVENT_ID],
      timestamp: ISO,
      footer: { text: 'CloudKeep Webhooks' },
    });
  });

  it.each([
    ['member.added', 'added to', COLOUR_CREATED],
    ['member.removed', 'removed from', COLOUR_DELETED],
  ] as const)('%s', (event, phrase, colour) => {
    const m = buildDiscordMessage(sample(event));
    expect(m.allowed_mentions).toEqual({ parse: [] });
    expect(embedOf(m)).toEqual({
      title: `${event} · Sam Ops`,
      description: `**Sam Ops** was ${phrase} vault **Production** by Jane Developer.`,
      color: colour,
      fields: [VAULT, field('Member', 'Sam Ops (admin)'), ACTOR, EVENT_ID],
      timestamp: ISO,
      footer: { text: 'CloudKeep Webhooks' },
    });
  });

  it('ping', () => {
    expect(buildDiscordMessage(sample('ping'))).toEqual({
      embeds: [
        {
          title: 'ping',
          description: 'Hello from CloudKeep',
          color: COLOUR_NEUTRAL,
          fields: [field('Webhook', 'wh\\_3kP9qR'), EVENT_ID],
          timestamp: ISO,
          footer: { text: 'CloudKeep Webhooks' },
        },
      ],
      allowed_mentions: { parse: [] },
    });
  });

  it('falls back to email, then id, for people and to the id for an unnamed vault', () => {
    const data = { vaultId: 'vlt1', member: { id: 'usr2', email: 'a@b.c' }, actor: { id: 'usr3' } };
    const embed = embedOf(buildDiscordMessage(sample('member.removed', data)));
    expect(embed.title).toBe('member.removed · a@b.c');
    expect(embed.description).toBe('**a@b.c** was removed from vault **vlt1** by usr3.');
    expect(embed.fields).toEqual([field('Vault', '(vlt1)'), field('Member', 'a@b.c'), field('Actor', 'usr3'), EVENT_ID]);
  });

  it('leaves out an unparseable timestamp (Discord would reject the message)', () => {
    const m = buildDiscordMessage({ ...sample('vault.updated'), timestamp: 'yesterday' });
    expect(embedOf(m)).not.toHaveProperty('timestamp', expect.anything());
    expect(JSON.parse(JSON.stringify(m)).embeds[0]).not.toHaveProperty('timestamp');
  });

  it('escapes markdown and mentions in user text, and allows no mentions', () => {
    const evil = '<@U123> & <!channel> @everyone [click](https://evil.example)';
    const escaped = '\\<@U123\\> & \\<!channel\\> @everyone \\[click\\](https://evil.example)';
    const data = { ...vault, secretId: 'sec_1', secretKey: evil, actor: { id: 'usr_1', name: evil } };
    const m = buildDiscordMessage(sample('secret.created', data));
    const embed = embedOf(m);
    expect(m.allowed_mentions).toEqual({ parse: [] });
    expect(embed.description).toBe(`Secret **${escaped}** was created in vault **Production** by ${escaped}.`);
    expect(embed.fields).toContainEqual(field('Secret key', escaped));
    expect(embed.fields).toContainEqual(field('Actor', escaped));
    // The title renders no links or mentions, so it keeps the text as typed.
    expect(embed.title).toBe(`secret.created · ${evil}`);
  });

  it('never includes fields it does not know, such as a secret value', () => {
    for (const event of EVENT_TYPES) {
      const data = { ...sampleData(event), value: 'hunter2', secretValue: 'hunter2', actor: { ...actor, value: 'hunter2' } };
      if (event.startsWith('member')) Object.assign(data, { member: { ...member, plaintext: 'hunter2' } });
      expect(JSON.stringify(buildDiscordMessage(sample(event, data)))).not.toContain('hunter2');
    }
  });

  describe('limits', () => {
    function expectWithinLimits(embed: DiscordEmbed) {
      expectDiscordWithinLimits(embed);
      // Truncation never leaves a dangling escape or half a surrogate pair behind.
      const text = JSON.stringify(embed);
      expect(text).not.toMatch(/(?<!\\)(\\\\)*\\…/);
      expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    }

    // '*' doubles when escaped; the emoji is two UTF-16 units per character.
    it.each([
      ['plain', 'K'],
      ['escaped', '*'],
      ['mixed', 'a_'],
      ['emoji', '😀'],
    ])('a 10,000-character secret key and vault name (%s) stay within every limit', (_, unit) => {
      const long = unit.repeat(Math.ceil(10_000 / unit.length)).slice(0, 10_000);
      for (const event of EVENT_TYPES) {
        const data = oversizedData(event, long);
        const embed = embedOf(buildDiscordMessage({ id: long, event, timestamp: TIMESTAMP, data }));
        expectWithinLimits(embed);
        expect(embed.description).toContain('…');
      }
    });
  });
});
