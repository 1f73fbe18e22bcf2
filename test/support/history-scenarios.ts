/**
 * The recorded workflow histories that `test/replay.test.ts` replays against the current workflow code,
 * one file each under test/histories/ (`npm run record-histories` writes them). Every workflow type and
 * every path through it that matters for determinism is here; a missing file fails the replay test.
 */
export const HISTORY_SCENARIOS = {
  'delivery-success': 'deliveryWorkflow: the first attempt succeeds',
  'delivery-retry': 'deliveryWorkflow: a failed attempt, a 1-minute durable timer, then success',
  'delivery-failed': 'deliveryWorkflow: six failed attempts over about 14.6 hours, then failed',
  'delivery-redeliver': 'deliveryWorkflow: a redeliver signal during back-off, a manual attempt that succeeds',
  'delivery-cancel': 'deliveryWorkflow: the webhook is deleted during back-off, a stop signal, cancelled',
  'delivery-paced': "deliveryWorkflow: the webhook's rate limit paces the attempt, a durable timer, then success",
  'health-continue-as-new': 'webhookHealthWorkflow: a failure day closes at UTC midnight, continue-as-new',
  'health-disable': 'webhookHealthWorkflow: the third failure day closes, disable and email, continue-as-new',
  'health-re-enable': 'webhookHealthWorkflow: the owner re-enables (webhookEnabled signal), the streak starts over',
  fanout: 'fanoutWorkflow: an event for more webhooks than the API starts directly',
  'log-retention': 'deliveryLogRetentionWorkflow: the daily prune',
} as const;

export type HistoryScenario = keyof typeof HISTORY_SCENARIOS;
