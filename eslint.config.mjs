import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries.
const nodeBuiltins = ['assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers', 'tls', 'url', 'util', 'worker_threads', 'zlib'];

// The layers, top to bottom: api → services → dispatch → (workflows) → activities → delivery, destinations, db, domain.
// Nothing imports upwards, and nothing outside src/workflows imports workflow code: callers start workflows by name
// (workflowTypes in src/workflows/messages.ts), since workflow code imports the activities' types.
const workflowCode = ['index', 'delivery', 'health', 'fanout', 'recover', 'retention'].flatMap((f) => [`../workflows/${f}`, ...(f === 'index' ? ['../workflows'] : [])]);
const layer = (files, above) => ({
  files,
  ignores: ['**/*.test.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: workflowCode.map((name) => ({ name, message: 'Start workflows by name: workflowTypes and WorkflowSignatures in src/workflows/messages.ts.' })),
        patterns: [
          ...(above.length ? [{ group: above.flatMap((d) => [`../${d}`, `../${d}/*`]), message: `A layer imports only the layers below it (see eslint.config.mjs).` }] : []),
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', 'coverage/**', 'client/schema.d.ts'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  layer(['src/services/**/*.ts'], ['api', 'activities']),
  layer(['src/dispatch/**/*.ts'], ['api', 'services', 'activities']),
  layer(['src/activities/**/*.ts'], ['api', 'services']),
  layer(['src/db/**/*.ts', 'src/domain/**/*.ts', 'src/delivery/**/*.ts', 'src/destinations/**/*.ts'], ['api', 'services', 'dispatch', 'activities']),
  // Tracing is used by every layer and knows none of them (src/tracing/index.ts loads no OpenTelemetry code).
  layer(['src/tracing/**/*.ts'], ['api', 'services', 'dispatch', 'activities', 'db', 'delivery', 'destinations', 'domain']),
  {
    files: ['src/workflows/**/*.ts'],
    ignores: ['src/workflows/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, ...nodeBuiltins.map((m) => `node:${m}`)].map((name) => ({ name, message: 'Workflows are deterministic: no Node built-ins (use an activity).' })),
          patterns: [
            { group: ['knex', 'pg', 'nodemailer', 'express', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'Workflows do no I/O: call an activity.' },
            { group: ['../activities', '../activities/*'], allowTypeImports: true, message: 'Import activities with `import type` and call them through proxyActivities.' },
            { group: ['../db/*', '../services/*', '../api/*', '../delivery/*', '../mail/*'], message: 'Workflows do no I/O: call an activity.' },
          ],
        },
      ],
    },
  },
);
