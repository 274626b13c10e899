/**
 * The wheel's UI test: the same browser settings, against a Jupyter server
 * started from a fresh virtual environment where only the built wheel was
 * installed, with no Node.js on its PATH (scripts/test_wheel.sh makes it and
 * names it in QCL_WHEEL_VENV).
 */
const path = require('path');

const config = require('./playwright.config');

const venv = process.env.QCL_WHEEL_VENV;
if (!venv) {
  throw new Error('QCL_WHEEL_VENV is not set: run scripts/test_wheel.sh.');
}
const port = process.env.QCL_WHEEL_PORT || '8898';

module.exports = {
  ...config,
  testIgnore: [],
  testMatch: ['**/wheel.spec.ts'],
  outputDir: 'test-results-wheel',
  use: { ...config.use, baseURL: `http://localhost:${port}` },
  webServer: {
    ...config.webServer,
    // PATH is the venv's bin only: no node, no jlpm.
    command:
      `env PATH="${venv}/bin" "${venv}/bin/jupyter" lab --config jupyter_server_test_config.py ` +
      `--port ${port} > "${path.join(process.env.QCONNECTOR_UI_STATE_DIR, 'jupyter-wheel-server.log')}" 2>&1`,
    url: `http://localhost:${port}/lab`,
    reuseExistingServer: false
  }
};
