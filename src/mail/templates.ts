import type { WebhookRow } from '../db/stores/webhooks';
import type { MailMessage } from './mailer';

/** The one email of the health rule: which webhook, since when, the last error, and how to re-enable it. */
export function disabledWebhookEmail(input: {
  to: string;
  webhook: Pick<WebhookRow, 'id' | 'display_url' | 'description'>;
  failingSince: string | null;
  lastError: string | null;
  apiBaseUrl: string;
}): MailMessage {
  const { webhook } = input;
  const name = webhook.description ? `"${webhook.description}" (${webhook.id})` : webhook.id;
  return {
    to: input.to,
    subject: `CloudKeep webhook disabled: ${webhook.display_url}`,
    text: [
      `Your CloudKeep webhook ${name} has been disabled after 3 consecutive days of failed deliveries.`,
      '',
      `URL:            ${webhook.display_url}`,
      `Failing since:  ${input.failingSince ?? 'unknown'}`,
      `Last error:     ${input.lastError ?? 'unknown'}`,
      '',
      'No further events will be sent to it until you re-enable it. Fix the endpoint, then re-enable it',
      'in Settings → Webhooks, or with the API (a ping is sent to check it):',
      '',
      `  curl -X POST ${input.apiBaseUrl}/v1/webhooks/${webhook.id}/enable -H "Authorization: Bearer <your API key>"`,
      '',
      '— CloudKeep Webhooks',
    ].join('\n'),
  };
}
