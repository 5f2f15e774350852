// ESLint flat config: typescript-eslint strict + stylistic type-checked rules, and the layer rules of DESIGN.md
// ("dependencies point down") enforced with no-restricted-imports per folder.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (files, patterns) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'bin/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBigInt: true }],
    },
  },
  // src/ttlv is the bottom layer: bytes only, nothing from the rest of src/.
  layer(
    ['src/ttlv/**/*.ts'],
    [{ group: ['../*', '!../ttlv', '!../ttlv/*'], message: 'src/ttlv imports nothing from src/' }],
  ),
  // src/kmip knows only ttlv.
  layer(
    ['src/kmip/**/*.ts'],
    [{ group: ['../*', '!../ttlv/*', '!../kmip/*'], message: 'src/kmip imports only src/ttlv' }],
  ),
  // Only src/hsm may load the PKCS#11 binding, only src/store the LevelDB binding.
  layer(
    ['src/**/*.ts'],
    [
      { group: ['pkcs11js'], message: 'only src/hsm imports pkcs11js' },
      { group: ['level', 'classic-level', 'memory-level'], message: 'only src/store imports level' },
    ],
  ),
);
