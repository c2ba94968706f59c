import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '.demo/**', 'runs/**', 'coverage/**', '.ci/out/**', 'apps/cli/dist/**', 'apps/cli/dist.*/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/packages/*/src/**', '@differad/*/src/**'], message: 'Import the package name, not a path into its src.' },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/core/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'sharp', 'bullmq', 'ioredis', 'undici', 'openai'],
              message: 'packages/core is pure: no I/O imports.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'packages/core reads no env.' }],
    },
  },
);
