/** What the OpenAPI document says about the API as a whole: its info block and the tags its operations use. */

export const API_INFO = {
  title: 'CloudKeep Webhooks API',
  version: '1.0.0',
  description: [
    'Manage webhooks, ingest vault events and read the Delivery Log.',
    '',
    'Admin routes take an admin API key (`ck_admin_…`), event ingest takes the service token (`ck_svc_…`), both as',
    '`Authorization: Bearer <key>`. Errors are `application/problem+json` with `errors[].field` naming what was wrong.',
    'Lists are paged with an opaque `cursor` (`nextCursor` is null on the last page).',
  ].join('\n'),
  contact: { name: 'CloudKeep Webhooks', url: 'https://cloudkeep.io/docs/webhooks' },
  // The package is private and carries no licence of its own: the document says so rather than name one.
  license: { name: 'Proprietary: all rights reserved by CloudKeep' },
};

/** Every tag an operation may carry, in the order the API reference shows them. */
export const API_TAGS = [
  { name: 'Webhooks', description: 'Endpoints that receive deliveries: generic HTTPS receivers, Slack and Discord. Create, read, change, test, re-enable and delete them, and rotate their signing secret.' },
  { name: 'Events', description: 'What CloudKeep delivers: the event catalog, and ingest, through which the vault service reports a change that then fans out to every subscribed webhook.' },
  { name: 'Delivery Log', description: "Every delivery of an event to a webhook, with each attempt's request, response, duration and error, a link to its Temporal workflow, and redelivery." },
  { name: 'Recovery', description: 'Re-delivering, oldest first, what a webhook missed while disabled or inactive (skipped) and what failed, since a given time.' },
  { name: 'API keys', description: "The organization's admin keys and event-ingest service tokens: list and revoke them (operators create them with `npm run cli -- key create`)." },
  { name: 'Integrations', description: '"Connect to Slack": Slack OAuth v2 (scope incoming-webhook), which creates a Slack webhook for the channel the user picks.' },
] as const;

export type ApiTag = (typeof API_TAGS)[number]['name'];
