import type { WebhookRow } from '../db/stores/webhooks';
import type { MailMessage } from './mailer';

type WebhookInMail = Pick<WebhookRow, 'id' | 'display_url' | 'description'>;

const nameOf = (webhook: WebhookInMail) => (webhook.description ? `"${webhook.description}" (${webhook.id})` : webhook.id);
/** The webhook on the Settings → Webhooks page, where the owner reads its log, re-enables and recovers. */
export const settingsPageUrl = (apiBaseUrl: string, webhookId: string) => `${apiBaseUrl}/settings/?webhook=${encodeURIComponent(webhookId)}`;

/**
 * The warning after the first full failure day of a streak: since when, the last error, the day after which the
 * webhook will be disabled unless a delivery succeeds, and where to read the Delivery Log.
 */
export function failureWarningEmail(input: {
  to: string;
  webhook: WebhookInMail;
  failingSince: string;
  lastError: string | null;
  /** The UTC day whose end disables the webhook if every day until then fails. */
  disableAfterDay: string;
  apiBaseUrl: string;
}): MailMessage {
  const { webhook } = input;
  return {
    to: input.to,
    subject: `CloudKeep webhook failing: ${webhook.display_url}`,
    text: [
      `Your CloudKeep webhook ${nameOf(webhook)} has been failing since ${input.failingSince}:`,
      'every delivery attempt on a full UTC day failed.',
      '',
      `URL:            ${webhook.display_url}`,
      `Failing since:  ${input.failingSince}`,
      `Last error:     ${input.lastError ?? 'unknown'}`,
      '',
      `It will be disabled after ${input.disableAfterDay} (UTC) unless a delivery succeeds.`,
      'Deliveries keep retrying on their schedule; a single success ends the streak.',
      '',
      'Read the Delivery Log (each attempt with its request, response and error):',
      `  ${settingsPageUrl(input.apiBaseUrl, webhook.id)}`,
      `  ${input.apiBaseUrl}/v1/webhooks/${webhook.id}/deliveries?status=retrying`,
      '',
      '— CloudKeep Webhooks',
    ].join('\n'),
  };
}

/** The one email of the disable: which webhook, since when, the last error, and how to re-enable and recover. */
export function disabledWebhookEmail(input: {
  to: string;
  webhook: WebhookInMail;
  failingSince: string | null;
  lastError: string | null;
  apiBaseUrl: string;
}): MailMessage {
  const { webhook } = input;
  return {
    to: input.to,
    subject: `CloudKeep webhook disabled: ${webhook.display_url}`,
    text: [
      `Your CloudKeep webhook ${nameOf(webhook)} has been disabled after 3 consecutive days of failed deliveries.`,
      '',
      `URL:            ${webhook.display_url}`,
      `Failing since:  ${input.failingSince ?? 'unknown'}`,
      `Last error:     ${input.lastError ?? 'unknown'}`,
      '',
      'No further events will be sent to it until you re-enable it; events from now on are kept as skipped',
      'deliveries. What to do:',
      '',
      '1. Fix the endpoint (the last error above says what went wrong).',
      '2. Re-enable it (a ping is sent to check it) in Settings → Webhooks:',
      `     ${settingsPageUrl(input.apiBaseUrl, webhook.id)}`,
      '   or with the API:',
      `     curl -X POST ${input.apiBaseUrl}/v1/webhooks/${webhook.id}/enable -H "Authorization: Bearer <your API key>"`,
      '3. Recover what it missed: Recover on the same page re-delivers the failed and skipped deliveries, or',
      `     curl -X POST ${input.apiBaseUrl}/v1/webhooks/${webhook.id}/recover -H "Authorization: Bearer <your API key>" \\`,
      `       -H 'Content-Type: application/json' -d '{"since":"${input.failingSince ?? '<ISO time>'}"}'`,
      '',
      '— CloudKeep Webhooks',
    ].join('\n'),
  };
}
