import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'demo-output/', 'coverage/', 'charts/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The dashboard runs in the browser; tsc (web/tsconfig.json, DOM types) checks its globals.
    files: ['web/**/*.{ts,tsx,mjs}'],
    rules: { 'no-undef': 'off' },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['fastify', 'bullmq', 'ioredis', '@kubernetes/*', '@gitbeaker/*', 'node:*', 'pino', 'prom-client'], message: 'src/core is pure: no I/O imports.' },
          { group: ['../engine/*', '../mesh/*', '../gates/*', '../gitlab/*', '../chatops/*', '../server/*', '../cli/*'], message: 'src/core imports only core.' },
        ],
      }],
    },
  },
);
