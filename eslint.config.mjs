import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries.
const nodeBuiltins = ['assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers', 'tls', 'url', 'util', 'worker_threads', 'zlib'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
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
