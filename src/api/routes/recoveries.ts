import { Router } from 'express';
import type { RouteTable } from '../route';
import { idParam, problem, recoverableCount, recoverableQuery, recoverBody, recovery, recoveryParams, recoveryStarted } from '../schemas';
import { presentRecovery } from '../presenters';
import type { RecoverableStatus } from '../../db/stores/recoveries';
import type { RecoveryService } from '../../services/recoveries';

export function recoveryRoutes(table: RouteTable, recoveries: RecoveryService): Router {
  const router = Router();
  const tags = ['Recovery'];

  table.add(router, {
    method: 'get', path: '/v1/webhooks/:id/recoverable', access: 'admin', tags,
    summary: 'How many failed or skipped deliveries a recovery since a time would re-deliver',
    params: idParam,
    query: recoverableQuery,
    responses: { 200: { description: 'The count', schema: recoverableCount } },
    handler: async ({ principal, params, query }) =>
      recoveries.countRecoverable(principal.organizationId, params.id, query.since, query.statuses?.split(',') as RecoverableStatus[] | undefined),
  });

  table.add(router, {
    method: 'post', path: '/v1/webhooks/:id/recover', access: 'admin', tags,
    summary: 'Re-deliver every failed or skipped delivery since a time, oldest first, through a recover workflow',
    params: idParam,
    body: recoverBody,
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
    summary: "A recovery's progress",
    params: recoveryParams,
    responses: { 200: { description: 'The recovery', schema: recovery } },
    handler: async ({ principal, params }) => presentRecovery(await recoveries.get(principal.organizationId, params.id, params.recoveryId)),
  });
  return router;
}
