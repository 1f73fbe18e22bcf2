import { generateWebhookSecret, signBody } from './signature';
import { verifyWebhook } from '../../test/support/verify-webhook';


describe('signBody', () => {
  it('produces a signature the spec verifier accepts, and only for the exact body and secret', () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ id: 'evt_1', event: 'ping', timestamp: '2025-06-11T10:30:00Z', data: { note: 'é ✓' } });
    const signature = signBody(body, secret);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhook(body, signature, secret)).toBe(true);
    expect(verifyWebhook(body + ' ', signature, secret)).toBe(false);
    expect(verifyWebhook(body, signature, generateWebhookSecret())).toBe(false);
  });

  it('generates whsec_ secrets from 32 random bytes', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(a);
  });
});
