import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { deliveriesStore } from '../db/stores/deliveries';
import { eventsStore } from '../db/stores/events';
import { Destination, WebhookRow, webhooksStore } from '../db/stores/webhooks';
import net from 'node:net';
import { checkUrl, guardedLookup, OutboundAddressError, OutboundPolicy } from '../delivery/address-guard';
import { redactUrl } from '../destinations';
import { newId } from '../domain/ids';
import { SecretBox } from '../domain/secret-box';
import { generateWebhookSecret } from '../domain/signature';
import { isStandardWebhooksSecret, STANDARD_WEBHOOKS_SECRET_RULE } from '../domain/standard-webhooks';
import { RECOVERABLE_STATUSES, recoveriesStore } from '../db/stores/recoveries';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { WebhookHealth, webhookDeletedSignal, webhookEnabledSignal, webhookHealthQuery, webhookHealthWorkflowId, WorkflowSignatures, workflowTypes } from '../workflows/messages';
import { DeliveryWorkflows } from '../dispatch/delivery-workflows';
import type { Logger } from '../logger';
import type { Keyed, KeysetPosition } from '../db/keyset';
import { fairnessWeightsFor } from '../dispatch/fairness-weights';
import type { Tracing } from '../tracing';

export interface CreateWebhookInput {
  url: string;
  destination: Destination;
  events: string[];
  description?: string;
  vaultIds?: string[] | null;
  secret?: string;
  slackChannel?: string | null;
  standardWebhooks?: boolean;
  rateLimit?: number;
}

export interface UpdateWebhookInput {
  url?: string;
  events?: string[];
  description?: string | null;
  vaultIds?: string[] | null;
  standardWebhooks?: boolean;
  /** null removes the limit. */
  rateLimit?: number | null;
}

export interface WebhookServiceDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
  secretBox: SecretBox;
  logger: Logger;
  outbound: OutboundPolicy;
  /** In production, Slack and Discord URLs must be on these hosts. */
  production: boolean;
  /** When on, a ping keeps the request's trace context, as an ingested event does. */
  tracing?: Tracing;
}

const DESTINATION_HOSTS: Partial<Record<Destination, string[]>> = {
  slack: ['hooks.slack.com'],
  discord: ['discord.com', 'discordapp.com', 'ptb.discord.com', 'canary.discord.com'],
};

export class WebhookService {
  private readonly workflows: DeliveryWorkflows;

  constructor(private readonly deps: WebhookServiceDeps) {
    this.workflows = new DeliveryWorkflows(deps.temporal, deps.taskQueue, { weights: fairnessWeightsFor(deps.db) });
  }

  /** Early, friendly refusal of a URL that could never be delivered to; the connect-time guard is the real one. */
  private async checkTarget(destination: Destination, url: string): Promise<void> {
    try {
      const parsed = checkUrl(url, this.deps.outbound);
      const hosts = DESTINATION_HOSTS[destination];
      if (this.deps.production && hosts && !hosts.includes(parsed.hostname)) {
        throw new ValidationError([{ field: 'body.url', message: `a ${destination} webhook URL must be on ${hosts.join(' or ')}` }]);
      }
      await this.refusePrivateName(parsed.hostname);
    } catch (err) {
      if (err instanceof OutboundAddressError) throw new ValidationError([{ field: 'body.url', message: err.message }]);
      throw err;
    }
  }

  /**
   * A name that resolves to a private address now (`localhost`, an internal zone) is refused at once.
   * A name that does not resolve (yet), or a slow resolver, is let through: the connect-time guard decides.
   */
  private async refusePrivateName(hostname: string): Promise<void> {
    const host = hostname.replace(/^\[|\]$/g, '');
    if (this.deps.outbound.allowPrivateTargets || net.isIP(host) !== 0) return; // literals: checkUrl judged them
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 3000);
      guardedLookup(this.deps.outbound)(host, { all: true }, (err: Error | null) => {
        clearTimeout(timer);
        if (err instanceof OutboundAddressError) reject(err);
        else resolve();
      });
    });
  }

  async get(organizationId: string, id: string): Promise<WebhookRow> {
    const row = await webhooksStore.get(this.deps.db, organizationId, id);
    if (!row) throw new NotFoundError('Webhook');
    return row;
  }

  async create(organizationId: string, input: CreateWebhookInput): Promise<{ webhook: WebhookRow; secret: string; pingDeliveryId: string }> {
    if (input.standardWebhooks) checkStandardWebhooks(input.destination, input.secret, 'body.secret');
    await this.checkTarget(input.destination, input.url);
    const secret = input.secret ?? generateWebhookSecret();
    const { db, secretBox } = this.deps;
    const { webhook, ping } = await db.transaction(async (trx) => {
      const webhook = await webhooksStore.insert(trx, {
        id: newId('wh'),
        organization_id: organizationId,
        destination: input.destination,
        display_url: redactUrl(input.destination, input.url),
        target_ciphertext: secretBox.seal(input.url),
        secret_ciphertext: secretBox.seal(secret),
        events: input.events,
        vault_ids: input.vaultIds ?? null,
        description: input.description ?? null,
        slack_channel: input.slackChannel ?? null,
        status: 'pending',
        standard_webhooks: input.standardWebhooks ?? false,
        rate_limit: input.rateLimit ?? null,
      });
      return { webhook, ping: await this.createPing(trx, webhook) };
    });
    // Visible in the Temporal UI from the start; if Temporal is down now, the first outcome that matters starts it.
    await this.workflows.startHealth(webhook.id).catch((err) => this.deps.logger.warn({ webhookId: webhook.id, err: err.message }, 'health workflow not started yet: Temporal unavailable'));
    return { webhook, secret, pingDeliveryId: ping.deliveryId };
  }

  async list(organizationId: string, limit: number, after?: KeysetPosition): Promise<Keyed<WebhookRow>[]> {
    return webhooksStore.list(this.deps.db, organizationId, limit, after);
  }

  /** A changed URL is verified again: back to `pending` and a new ping. */
  async update(organizationId: string, id: string, input: UpdateWebhookInput): Promise<WebhookRow> {
    const { db, secretBox } = this.deps;
    const updated = await db.transaction(async (trx) => {
      const current = await webhooksStore.getForUpdate(trx, organizationId, id);
      if (!current) throw new NotFoundError('Webhook');
      const changes: Partial<WebhookRow> = {};
      if (input.events) changes.events = input.events;
      if (input.description !== undefined) changes.description = input.description;
      if (input.vaultIds !== undefined) changes.vault_ids = input.vaultIds;
      if (input.standardWebhooks !== undefined) {
        if (input.standardWebhooks) checkStandardWebhooks(current.destination, secretBox.open(current.secret_ciphertext), 'body.standardWebhooks');
        changes.standard_webhooks = input.standardWebhooks;
      }
      if (input.rateLimit !== undefined) {
        changes.rate_limit = input.rateLimit;
        // Deliveries already waiting keep their slots, and new ones queue behind them (so the old and new rates never
        // add up). Removing the limit drops the reservation: one set later starts from now.
        if (input.rateLimit === null) Object.assign(changes, { next_send_at: null, send_gate_at: null });
      }
      const urlChanged = input.url !== undefined && input.url !== secretBox.open(current.target_ciphertext);
      if (urlChanged) {
        await this.checkTarget(current.destination, input.url!);
        changes.target_ciphertext = secretBox.seal(input.url!);
        changes.display_url = redactUrl(current.destination, input.url!);
        if (current.status !== 'disabled') Object.assign(changes, { status: 'pending', status_reason: 'URL changed', status_changed_at: new Date() });
      }
      const row = (await webhooksStore.update(trx, id, changes))!;
      if (urlChanged && row.status === 'pending') await this.createPing(trx, row);
      return row;
    });
    return updated;
  }

  /** Deletes the webhook, stops its waiting deliveries and ends its health workflow. */
  async delete(organizationId: string, id: string): Promise<void> {
    // Under the row lock like every other change, so a delete waits for an edit in progress (and vice versa).
    await this.deps.db.transaction(async (trx) => {
      if (!(await webhooksStore.getForUpdate(trx, organizationId, id))) throw new NotFoundError('Webhook');
      await webhooksStore.softDelete(trx, organizationId, id);
    });
    await this.workflows.stop(await deliveriesStore.listOpenIdsForWebhook(this.deps.db, id), 'Webhook deleted');
    await this.deps.temporal.workflow.getHandle(webhookHealthWorkflowId(id)).signal(webhookDeletedSignal).catch(() => undefined);
  }

  /**
   * Re-enables a disabled webhook: the health streak starts over and a ping checks the endpoint. Answers how
   * many deliveries failed or were skipped since the failing streak began: what a recovery from then would send.
   */
  async enable(organizationId: string, id: string): Promise<{ webhook: WebhookRow; pingDeliveryId: string; recoverable: { count: number; since: string } }> {
    const { db } = this.deps;
    const { webhook, ping, recoverable } = await db.transaction(async (trx) => {
      const current = await webhooksStore.getForUpdate(trx, organizationId, id);
      if (!current) throw new NotFoundError('Webhook');
      if (current.status !== 'disabled') throw new ConflictError('status', `the webhook is ${current.status}, not disabled`);
      const now = new Date();
      const since = streakStart(current);
      const count = await recoveriesStore.countRecoverable(trx, { webhookId: id, since, until: now, statuses: RECOVERABLE_STATUSES });
      const webhook = (await webhooksStore.update(trx, id, {
        status: 'pending',
        status_reason: 'Re-enabled by the owner',
        status_changed_at: now,
        disabled_email_sent_at: null,
        failing_since: null,
      }))!;
      return { webhook, ping: await this.createPing(trx, webhook), recoverable: { count, since: since.toISOString() } };
    });
    await this.deps.temporal.workflow.signalWithStart<WorkflowSignatures['webhookHealthWorkflow'], []>(workflowTypes.webhookHealthWorkflow, {
      workflowId: webhookHealthWorkflowId(id),
      taskQueue: this.deps.taskQueue,
      args: [{ webhookId: id }],
      signal: webhookEnabledSignal,
      signalArgs: [],
    });
    return { webhook, pingDeliveryId: ping.deliveryId, recoverable };
  }

  /**
   * Replaces the secret. Checked against the webhook as it is under its row lock, like PATCH: a concurrent PATCH
   * turning Standard Webhooks on either sees the new secret (and refuses it) or is seen by this check.
   */
  async rotateSecret(organizationId: string, id: string, given?: string): Promise<{ webhook: WebhookRow; secret: string }> {
    const secret = given ?? generateWebhookSecret();
    const webhook = await this.deps.db.transaction(async (trx) => {
      const current = await webhooksStore.getForUpdate(trx, organizationId, id);
      if (!current) throw new NotFoundError('Webhook');
      if (current.standard_webhooks) checkStandardWebhooks(current.destination, secret, 'body.secret');
      return (await webhooksStore.update(trx, id, { secret_ciphertext: this.deps.secretBox.seal(secret) }))!;
    });
    return { webhook, secret };
  }

  /** The Test button: a ping delivery, whatever the webhook's status but disabled. */
  async test(organizationId: string, id: string): Promise<string> {
    const ping = await this.deps.db.transaction(async (trx) => {
      const current = await webhooksStore.getForUpdate(trx, organizationId, id);
      if (!current) throw new NotFoundError('Webhook');
      if (current.status === 'disabled') throw new ConflictError('status', 'the webhook is disabled; re-enable it to send a test');
      return this.createPing(trx, current);
    });
    return ping.deliveryId;
  }

  /** The health workflow's view, or null when it cannot answer right now. */
  async health(webhookId: string): Promise<WebhookHealth | null> {
    const query = this.deps.temporal.workflow.getHandle(webhookHealthWorkflowId(webhookId)).query(webhookHealthQuery);
    const timeout = new Promise<null>((resolve) => setTimeout(resolve, 3000, null).unref());
    return Promise.race([query, timeout]).catch(() => null);
  }

  private async createPing(trx: Knex.Transaction, webhook: WebhookRow): Promise<{ eventId: string; deliveryId: string }> {
    const eventId = newId('evt');
    const deliveryId = newId('dlv');
    // Inside the webhook's transaction: the ping exists exactly when the webhook (or its new URL) does, and the
    // workers hear of it at commit (the outbox) and send it first.
    await eventsStore.insertWithDeliveries(
      trx,
      {
        organization_id: webhook.organization_id,
        id: eventId,
        type: 'ping',
        timestamp: new Date(),
        data: { webhookId: webhook.id, message: 'CloudKeep is checking that this endpoint is reachable.' },
        delivery_count: 1,
        traceparent: this.deps.tracing?.currentTraceparent(),
      },
      [{ id: deliveryId, webhook_id: webhook.id, status: 'pending', last_error: null }],
    );
    return { eventId, deliveryId };
  }

}

/**
 * Standard Webhooks signatures are for generic webhooks whose secret a Standard Webhooks verifier can decode
 * (a generated one always can); refused otherwise, naming the field to change.
 */
function checkStandardWebhooks(destination: Destination, secret: string | undefined, secretField: string): void {
  if (destination !== 'generic') throw new ValidationError([{ field: 'body.standardWebhooks', message: 'only generic webhooks can send Standard Webhooks signatures' }]);
  if (secret !== undefined && !isStandardWebhooksSecret(secret)) {
    const message = secretField === 'body.secret'
      ? `a webhook with Standard Webhooks signatures needs a secret that ${STANDARD_WEBHOOKS_SECRET_RULE}`
      : `the webhook's secret cannot be used for Standard Webhooks signatures (it ${STANDARD_WEBHOOKS_SECRET_RULE}); rotate it first`;
    throw new ValidationError([{ field: secretField, message }]);
  }
}

/** Three days: the failure days it takes to disable a webhook. */
const DISABLE_STREAK_MS = 3 * 86_400_000;

/**
 * When the failing streak that disabled a webhook began, as the health rule recorded it with the disable; for a
 * webhook disabled without that record, the three failure days before the disable.
 */
function streakStart(webhook: Pick<WebhookRow, 'failing_since' | 'status_changed_at'>): Date {
  return webhook.failing_since ?? new Date(webhook.status_changed_at.getTime() - DISABLE_STREAK_MS);
}
