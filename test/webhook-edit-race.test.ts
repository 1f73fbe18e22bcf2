/**
 * Edits of one webhook are serialized on its row: PATCH turning Standard Webhooks on and rotate-secret setting a
 * secret Standard Webhooks cannot use, sent at the same moment, must never both win (the webhook would be left
 * unable to sign its deliveries).
 */
import { isStandardWebhooksSecret } from '../src/domain/standard-webhooks';
import { Receiver } from './support/receiver';
import { withStackPerFile, Org, Stack } from './support/stack';

let stack: Stack;
let org: Org;
let receiver: Receiver;

withStackPerFile((parts) => ({ stack, org, receiver } = parts));

const ROUNDS = 30;
const PLAIN_SECRET = 'plain-secret-of-32-characters-xy';

it(`PATCH standardWebhooks:true racing rotate-secret to a plain secret: never both applied (${ROUNDS} rounds)`, async () => {
  expect(PLAIN_SECRET).toHaveLength(32);
  expect(isStandardWebhooksSecret(PLAIN_SECRET)).toBe(false);
  const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/race`, events: ['secret.created'] });
  expect(created.status).toBe(201);
  const id = created.body.id;

  for (let round = 0; round < ROUNDS; round++) {
    // Back to Standard Webhooks off with a generated (whsec_) secret.
    expect((await stack.api('PATCH', `/v1/webhooks/${id}`, org.apiKey, { standardWebhooks: false })).status).toBe(200);
    expect((await stack.api('POST', `/v1/webhooks/${id}/rotate-secret`, org.apiKey)).status).toBe(200);

    const [patch, rotate] = await Promise.all([
      stack.api('PATCH', `/v1/webhooks/${id}`, org.apiKey, { standardWebhooks: true }),
      stack.api('POST', `/v1/webhooks/${id}/rotate-secret`, org.apiKey, { secret: PLAIN_SECRET }),
    ]);

    const row = await stack.db('webhooks').where({ id }).first();
    const secret = stack.secretBox.open(row.secret_ciphertext);
    // The stored state is one a Standard Webhooks webhook can sign with.
    expect({ round, consistent: !row.standard_webhooks || isStandardWebhooksSecret(secret) }).toEqual({ round, consistent: true });
    // Exactly one of the two wins; the other is refused naming what conflicts with the winner.
    expect([patch.status, rotate.status].sort()).toEqual([200, 400]);
    if (patch.status === 400) {
      expect(patch.body.errors).toEqual([{ field: 'body.standardWebhooks', message: expect.stringContaining('rotate it first') }]);
      expect({ standardWebhooks: row.standard_webhooks, secret }).toEqual({ standardWebhooks: false, secret: PLAIN_SECRET });
    } else {
      expect(rotate.body.errors).toEqual([{ field: 'body.secret', message: expect.stringContaining('Standard Webhooks') }]);
      expect(row.standard_webhooks).toBe(true);
    }
  }
});
