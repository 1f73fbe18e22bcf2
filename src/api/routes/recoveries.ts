import { Router } from 'express';
import type { RouteTable } from '../route';
import type { ApiTag } from '../openapi-info';
import { problem, recoverableCount, recoverableQuery, recoverBody, recovery, recoveryParams, recoveryStarted, webhookIdParam } from '../schemas';
import { presentRecovery } from '../presenters';
import type { RecoverableStatus } from '../../db/stores/recoveries';
import type { RecoveryService } from '../../services/recoveries';

export function recoveryRoutes(table: RouteTable, recoveries: RecoveryService): Router {
  const router = Router();
  const tags: ApiTag[] = ['Recovery'];

  table.add(router, {
    method: 'get', path: '/v1/webhooks/:id/recoverable', access: 'admin', tags,
    operationId: 'countRecoverableDeliveries',
    summary: 'Count what a recovery would re-deliver',
    description: 'How many of the webhook\'s deliveries created since a time ended `failed` or `skipped` (skipped: the event came while the webhook was disabled or inactive): what `recoverDeliveries` with the same input would re-deliver.',
    params: webhookIdParam,
    query: recoverableQuery,
    responses: { 200: { description: 'The count', schema: recoverableCount } },
    handler: async ({ principal, params, query }) =>
      recoveries.countRecoverable(principal.organizationId, params.id, query.since, query.statuses?.split(',') as RecoverableStatus[] | undefined),
  });

  table.add(router, {
    method: 'post', path: '/v1/webhooks/:id/recover', access: 'admin', tags,
    operationId: 'recoverDeliveries',
    summary: 'Re-deliver what failed or was skipped',
    description:
      'Starts a recover workflow that re-delivers, oldest first, every delivery of the webhook created since `since` that ended in one of `statuses`. ' +
      'One recovery runs per webhook at a time; follow it with `getRecovery`.',
    params: webhookIdParam,
    body: recoverBody,
    bodyExample: { since: '2026-11-20T00:00:00Z', statuses: ['failed', 'skipped'] },
    responses: {
      202: { description: 'The recovery started; follow it at /v1/webhooks/{id}/recoveries/{recoveryId}', schema: recoveryStarted },
      409: { description: 'The webhook is not active or pending (re-enable it first), or a recovery is running', schema: problem, contentType: 'application/problem+json' },
    },
    handler: async ({ principal, params, body }) => {
      const view = presentRecovery(await recoveries.start(principal.organizationId, params.id, body));
      return { recoveryId: view.recoveryId, since: view.since, statuses: view.statuses, total: view.total, status: view.status, temporalUrl: view.temporalUrl };
    },
  });

  table.add(router, {
    method: 'get', path: '/v1/webhooks/:id/recoveries/:recoveryId', access: 'admin', tags,
    operationId: 'getRecovery',
    summary: "Read a recovery's progress",
    description: 'How many deliveries the recovery re-delivers, how many it has started so far, whether it is still running, and its workflow in the Temporal UI.',
    params: recoveryParams,
    responses: { 200: { description: 'The recovery', schema: recovery } },
    handler: async ({ principal, params }) => presentRecovery(await recoveries.get(principal.organizationId, params.id, params.recoveryId)),
  });
  return router;
}
