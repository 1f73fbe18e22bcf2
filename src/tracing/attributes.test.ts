import { outgoingRequestAttributes, outgoingResultAttributes, traceableUrl } from './attributes';

describe('span attributes of an outgoing webhook request', () => {
  it('drop credentials, query string and fragment from the URL, and keep a masked path as given', () => {
    expect(traceableUrl('https://user:pa55@example.com:8443/hooks/in?token=s3cret&x=1#frag')).toBe('https://example.com:8443/hooks/in');
    expect(traceableUrl('https://hooks.slack.com/services/T0/B0/••••••')).toBe('https://hooks.slack.com/services/T0/B0/••••••');
    expect(traceableUrl('http://127.0.0.1:9000/h#only-fragment')).toBe('http://127.0.0.1:9000/h');
  });

  it('name the method, URL, server and delivery, and nothing of the request headers or body', () => {
    const attributes = outgoingRequestAttributes({ url: 'https://example.com/in?sig=abc', destination: 'generic', deliveryId: 'dlv_1', webhookId: 'wh_1' });
    expect(attributes).toEqual({
      'http.request.method': 'POST',
      'url.full': 'https://example.com/in',
      'url.scheme': 'https',
      'server.address': 'example.com',
      'server.port': 443,
      'cloudkeep.destination': 'generic',
      'cloudkeep.delivery.id': 'dlv_1',
      'cloudkeep.webhook.id': 'wh_1',
    });
    expect(outgoingRequestAttributes({ url: 'http://[::1]:8080/x', destination: 'generic', deliveryId: 'd', webhookId: 'w' })).toMatchObject({ 'server.address': '::1', 'server.port': 8080 });
  });

  it('record the status code, the duration and, for a failure, its error type', () => {
    expect(outgoingResultAttributes({ status: 200, durationMs: 12, succeeded: true, error: null })).toEqual({
      'http.response.status_code': 200,
      'cloudkeep.http.duration_ms': 12,
      'cloudkeep.delivery.succeeded': true,
    });
    expect(outgoingResultAttributes({ status: 500, durationMs: 3, succeeded: false, error: 'HTTP 500' })).toMatchObject({ 'http.response.status_code': 500, 'error.type': '500' });
    const refused = outgoingResultAttributes({ status: null, durationMs: 1, succeeded: false, error: 'Connection refused' });
    expect(refused).not.toHaveProperty('http.response.status_code');
    expect(refused['error.type']).toBe('_OTHER');
  });
});
