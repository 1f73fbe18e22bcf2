import { DISCORD_LIMITS, type DiscordEmbed } from '../../src/destinations/discord-message';
import { SLACK_LIMITS, type SlackBlock, type SlackMessage } from '../../src/destinations/slack-message';

/** The three blocks of a CloudKeep Slack message, checked to be exactly those. */
export function slackParts(m: SlackMessage) {
  expect(m.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
  const [header, section, context] = m.blocks as [
    Extract<SlackBlock, { type: 'header' }>,
    Extract<SlackBlock, { type: 'section' }>,
    Extract<SlackBlock, { type: 'context' }>,
  ];
  return { header, section, context };
}

/** Every Block Kit limit Slack enforces on an incoming-webhook message. */
export function expectSlackWithinLimits(m: SlackMessage): void {
  const { header, section, context } = slackParts(m);
  expect(header.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
  expect(section.fields!.length).toBeLessThanOrEqual(SLACK_LIMITS.fields);
  for (const f of section.fields!) expect(f.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
  expect(section.text?.text.length ?? 0).toBeLessThanOrEqual(SLACK_LIMITS.blockText);
  for (const e of context.elements) expect(e.text.length).toBeLessThanOrEqual(SLACK_LIMITS.blockText);
  expect(m.text.length).toBeLessThanOrEqual(SLACK_LIMITS.messageText);
}

/** Every embed limit Discord enforces (a message over any of them is refused whole). */
export function expectDiscordWithinLimits(embed: DiscordEmbed): void {
  expect(embed.title.length).toBeLessThanOrEqual(DISCORD_LIMITS.title);
  expect(embed.description.length).toBeLessThanOrEqual(DISCORD_LIMITS.description);
  expect(embed.fields.length).toBeLessThanOrEqual(DISCORD_LIMITS.fields);
  for (const f of embed.fields) {
    expect(f.name.length).toBeGreaterThan(0);
    expect(f.name.length).toBeLessThanOrEqual(DISCORD_LIMITS.fieldName);
    expect(f.value.length).toBeGreaterThan(0);
    expect(f.value.length).toBeLessThanOrEqual(DISCORD_LIMITS.fieldValue);
  }
  expect(embed.footer.text.length).toBeLessThanOrEqual(DISCORD_LIMITS.footer);
  const total = [embed.title, embed.description, embed.footer.text, ...embed.fields.flatMap((f) => [f.name, f.value])].join('').length;
  expect(total).toBeLessThanOrEqual(DISCORD_LIMITS.total);
}
