const jestJupyterLab = require('@jupyterlab/testutils/lib/jest-config');

// ES modules shipped untranspiled that jest must run through babel.
const esModules = [
  '@codemirror',
  '@jupyter/ydoc',
  '@jupyterlab/',
  'lib0',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const baseConfig = jestJupyterLab(__dirname);

module.exports = {
  ...baseConfig,
  automock: false,
  collectCoverageFrom: [
    'src/**/*.{ts,tsx}',
    '!src/**/*.d.ts',
    '!src/**/.ipynb_checkpoints/*'
  ],
  coverageReporters: ['lcov', 'text'],
  // No junit.xml in the work tree.
  reporters: ['default'],
  // The built labextension and ui-tests have their own package.json files.
  modulePathIgnorePatterns: [
    '<rootDir>/qiskit_connector_lab/',
    '<rootDir>/ui-tests/',
    '<rootDir>/.venv/',
    '<rootDir>/bench/'
  ],
  testRegex: 'src/.*/.*.spec.ts[x]?$',
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`]
};
