// The linter's rules, stated once: how long a file and a function may grow. Width is the formatter's
// (.prettierrc.json); types are tsc's; the layers are depcruise's (.dependency-cruiser.cjs).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'results/', 'bench/results/', 'test/fixtures/**/*.txt'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    rules: {
      'max-lines': ['error', { max: 450, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true }],
      'max-depth': ['error', 4],
      'max-params': ['error', 7],
    },
  },
  {
    // A test file is a list of cases, each in the describe() that names it: its length is its table's.
    files: ['test/**/*.ts'],
    rules: { 'max-lines-per-function': 'off', 'max-lines': 'off' },
  },
);
