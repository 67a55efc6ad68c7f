// Flat config: typescript-eslint's recommended rules on our sources; the type checker does the rest.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'src/generated/**',
      'data/**',
      'bench/results/**',
      'bench/.work/**',
      '.tmp/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Only src/config reads the environment.' },
      ],
    },
  },
  {
    files: ['src/config/**', 'test/**', 'scripts/**', 'bench/**', 'examples/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['examples/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // why: the adapter, study-part and sink registries hold plugins of many option and unit types; `any` is the honest type there.
  {
    files: [
      'src/adapter/types.ts',
      'src/study/study-part.ts',
      'src/sinks/load-sinks.ts',
      'src/sinks/builtin/index.ts',
    ],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
