import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // The CLI and the bench are the edges that talk to a person on a terminal.
  { files: ['src/cli.ts', 'src/cli/**', 'bench/**', 'test/fakes/**'], rules: { 'no-console': 'off' } },
);
