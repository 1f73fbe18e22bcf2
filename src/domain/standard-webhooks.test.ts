import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret } from './signature';
import { isStandardWebhooksSecret, standardWebhooksHeaders, standardWebhooksKey } from './standard-webhooks';

const body = JSON.stringify({ id: 'evt_1', event: 'secret.created', timestamp: '2026-01-02T03:04:05Z', data: { vaultId: 'vlt_1' } });

describe('Standard Webhooks signatures', () => {
  it('are what the standardwebhooks package computes and accepts, for generated secrets', () => {
    for (let i = 0; i < 20; i++) {
      const secret = generateWebhookSecret();
      const timestampSeconds = Math.floor(Date.now() / 1000);
      const headers = standardWebhooksHeaders({ id: 'dlv_abc', timestampSeconds, body, secret });
      const reference = new Webhook(secret);
      expect(headers['webhook-signature']).toBe(reference.sign('dlv_abc', new Date(timestampSeconds * 1000), body));
      expect(reference.verify(body, headers)).toEqual(JSON.parse(body));
    }
  });

  it('are refused by the verifier for another secret, another body or another id', () => {
    const secret = generateWebhookSecret();
    const headers = standardWebhooksHeaders({ id: 'dlv_abc', timestampSeconds: Math.floor(Date.now() / 1000), body, secret });
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(secret).verify(body.replace('vlt_1', 'vlt_2'), headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'dlv_other' })).toThrow(/No matching signature/);
  });

  it('take the key from whsec_ + base64 of 24 to 64 bytes, padded or not', () => {
    const bytes = randomBytes(24);
    expect(standardWebhooksKey(`whsec_${bytes.toString('base64')}`)).toEqual(bytes);
    const unpadded = randomBytes(32);
    expect(standardWebhooksKey(`whsec_${unpadded.toString('base64').replace(/=+$/, '')}`)).toEqual(unpadded);
    expect(isStandardWebhooksSecret(`whsec_${randomBytes(64).toString('base64')}`)).toBe(true);
  });

  it('cannot be made with secrets a verifier could not decode', () => {
    expect(isStandardWebhooksSecret('a-long-shared-secret-of-my-own-choosing')).toBe(false); // no prefix
    expect(isStandardWebhooksSecret(`whsec_${'ab-_'.repeat(8)}`)).toBe(false); // base64url
    expect(isStandardWebhooksSecret(`whsec_${randomBytes(16).toString('base64')}`)).toBe(false); // too short
    expect(isStandardWebhooksSecret(`whsec_${randomBytes(65).toString('base64')}`)).toBe(false); // too long
    expect(isStandardWebhooksSecret('whsec_')).toBe(false);
    expect(() => standardWebhooksHeaders({ id: 'dlv_1', timestampSeconds: 1, body, secret: 'not-a-standard-secret-at-all' })).toThrow(/not a Standard Webhooks secret/);
  });
});
