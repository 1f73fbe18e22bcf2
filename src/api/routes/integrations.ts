import { Router } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Config } from '../../config';
import type { SecretBox } from '../../domain/secret-box';
import { SlackOAuthService, STATE_TTL_MS, stateKeyFrom, stateVerificationKeysFrom } from '../../integrations/slack-oauth';
import type { WebhookService } from '../../services/webhooks';
import { presentWebhook } from '../presenters';
import type { RouteTable } from '../route';
import type { ApiTag } from '../openapi-info';
import { createWebhookBody, problem, webhook } from '../schemas';

export const slackAuthorizeBody = createWebhookBody
  .pick({ events: true, description: true, vaultIds: true })
  .strict()
  .openapi('SlackAuthorizeRequest');

export const slackAuthorization = z
  .object({
    authorizeUrl: z.string().describe("Slack's consent screen: send the user's browser here"),
    state: z.string().describe('Signed, single-use, bound to your organization'),
    expiresAt: z.string().describe(`The state is valid for ${STATE_TTL_MS / 60_000} minutes`),
  })
  .openapi('SlackAuthorization');

export const slackCallbackQuery = z.object({
  state: z.string().min(1).max(512).describe('The signed state from authorizeSlack, as Slack hands it back'),
  code: z.string().min(1).max(512).optional().describe("Slack's authorization code (when the user allowed access)"),
  error: z.string().min(1).max(200).optional().describe("Slack's error (when the user declined, e.g. access_denied)"),
});

const problemResponse = (description: string) => ({ description, schema: problem, contentType: 'application/problem+json' });

export function integrationRoutes(table: RouteTable, slack: SlackOAuthService): Router {
  const router = Router();
  const tags: ApiTag[] = ['Integrations'];

  table.add(router, {
    method: 'post', path: '/v1/integrations/slack/authorize', access: 'admin', tags,
    operationId: 'authorizeSlack',
    summary: 'Start "Connect to Slack"',
    description:
      "Starts Slack OAuth v2 (scope incoming-webhook) with the events the new Slack webhook will send. Send the user's browser to `authorizeUrl`; Slack redirects back with a code and the signed `state`, which `completeSlackAuthorization` exchanges for the channel's webhook.",
    body: slackAuthorizeBody,
    bodyExample: { events: ['secret.created', 'vault.deleted'], description: 'Alerts to #security' },
    responses: {
      201: { description: "Slack's authorisation URL and the signed state (valid 10 minutes, once)", schema: slackAuthorization },
      503: problemResponse('Slack integration is not configured on this server'),
    },
    handler: async ({ principal, body }) => slack.authorize(principal.organizationId, body),
  });

  table.add(router, {
    method: 'get', path: '/v1/integrations/slack/callback', access: 'optional', tags,
    operationId: 'completeSlackAuthorization',
    summary: 'Finish "Connect to Slack"',
    description:
      "Slack's redirect: exchanges the code for the channel's incoming webhook and creates the Slack webhook (a ping goes to the channel). " +
      `A browser without an API key is sent on to the settings page; an API client with the admin key gets the webhook as JSON. The \`state\` is single-use and valid ${STATE_TTL_MS / 60_000} minutes.`,
    query: slackCallbackQuery,
    responses: {
      201: { description: 'The new Slack webhook (a ping is on its way to the channel)', schema: webhook },
      303: { description: "A browser (Slack's redirect, asking for HTML, without an API key) is sent on to the settings page" },
      409: problemResponse('The state was already used'),
      502: problemResponse('Slack refused the code (its error is named) or could not be reached'),
      503: problemResponse('Slack integration is not configured on this server'),
    },
    handler: async ({ principal, query, req, res }) => {
      const created = await slack.complete(query, principal ?? null);
      // The user's browser lands here from Slack: show them the settings page, not JSON.
      if (!principal && req.accepts(['json', 'html']) === 'html') {
        return void res.redirect(303, `/settings/?slackConnected=${encodeURIComponent(created.id)}`);
      }
      return presentWebhook(created);
    },
  });

  return router;
}

/** For `createApp({ extraRoutes })`: the integration routes, wired to the service they need. */
export function integrationExtraRoutes(deps: { db: Knex; config: Pick<Config, 'slack'>; secretBox: SecretBox; webhooks: WebhookService }) {
  const slack = new SlackOAuthService({ db: deps.db, slack: deps.config.slack, stateKey: stateKeyFrom(deps.secretBox), stateVerificationKeys: stateVerificationKeysFrom(deps.secretBox), webhooks: deps.webhooks });
  return (table: RouteTable): Router[] => [integrationRoutes(table, slack)];
}
