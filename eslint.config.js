// ESLint flat config: typescript-eslint strict + stylistic type-checked rules, and the layer rules of DESIGN.md
// ("dependencies point down") enforced with no-restricted-imports per folder.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Native bindings that only one layer may load. */
const pkcs11Binding = { group: ['pkcs11js'], message: 'only src/hsm imports pkcs11js' };
const levelBinding = {
  group: ['level', 'classic-level', 'memory-level'],
  message: 'only src/store imports level',
};
const bindings = [pkcs11Binding, levelBinding];

/** One flat-config entry per layer; later entries win, so each carries the binding rules too. */
const layer = (files, patterns, allowed = bindings) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: [...patterns, ...allowed] }] },
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
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allow: [{ from: 'lib', name: ['bigint', 'BigInt'] }] },
      ],
    },
  },
  layer(['src/**/*.ts'], []),
  // src/ttlv is the bottom layer: bytes only, nothing from the rest of src/.
  layer(
    ['src/ttlv/**/*.ts'],
    [{ group: ['../*', '!../ttlv'], message: 'src/ttlv imports nothing from src/' }],
  ),
  // The two layers that own a native binding.
  layer(['src/hsm/**/*.ts'], [], [levelBinding]),
  layer(['src/store/**/*.ts'], [], [pkcs11Binding]),
  // src/kmip knows only ttlv.
  layer(
    ['src/kmip/**/*.ts'],
    [{ group: ['../*', '!../ttlv', '!../kmip'], message: 'src/kmip imports only src/ttlv' }],
  ),
);
