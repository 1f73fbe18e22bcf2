import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/**
 * The OpenTelemetry modules a fresh process has loaded once it has imported the whole application (API, worker,
 * dispatcher, activities) and called startTracing with `env`. `@opentelemetry/api` is left out: prom-client loads it
 * whatever we do, and it is the no-op API, not the SDK.
 */
function otelModulesLoaded(env: Record<string, string>): string[] {
  const script = `
    require('./src/runtime');
    const { startTracing } = require('./src/tracing');
    const tracing = startTracing(require('./src/config').loadConfig(process.env).tracing);
    const loaded = Object.keys(require.cache).filter((f) => /@opentelemetry\\/(?!api\\/)|interceptors-opentelemetry/.test(f));
    process.stdout.write(JSON.stringify({ tracing: Boolean(tracing), loaded: [...new Set(loaded.map((f) => f.replace(/.*node_modules\\//, '').split('/').slice(0, 2).join('/')))] }));
    tracing?.shutdown();`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, env: { PATH: process.env.PATH!, ...env }, encoding: 'utf8' });
  const { tracing, loaded } = JSON.parse(out);
  expect(tracing).toBe(Object.keys(env).length > 0);
  return loaded;
}

describe('startTracing', () => {
  it('with no OTLP endpoint, loads no OpenTelemetry SDK, exporter or Temporal interceptor', () => {
    expect(otelModulesLoaded({})).toEqual([]);
  });

  it('with one, loads the SDK, the exporter and the interceptors', () => {
    expect(otelModulesLoaded({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' })).toEqual(
      expect.arrayContaining(['@opentelemetry/sdk-trace-node', '@opentelemetry/exporter-trace-otlp-proto', '@temporalio/interceptors-opentelemetry']),
    );
  });
});
