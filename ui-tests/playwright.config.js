/**
 * Playwright configuration: Galata's defaults, run in Debian's Chromium
 * (`apt-get install chromium`) since Playwright cannot download its own
 * browsers here. Never run `playwright install`.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');

const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

// One folder for the local fleet's state, shared by the Jupyter server (and
// its kernels) and the tests: the fleet file the tests write, and the pick.
// Set once in the main process; the workers inherit it.
if (!process.env.QCONNECTOR_UI_STATE_DIR) {
  process.env.QCONNECTOR_UI_STATE_DIR = fs.mkdtempSync(
    path.join(os.tmpdir(), 'qcl-ui-tests-')
  );
}

// The port of the test server (QCONNECTOR_UI_PORT, default 8888): another
// run on the same machine can use its own.
const PORT = process.env.QCONNECTOR_UI_PORT || '8888';

const chromiumArgs = [
  '--no-sandbox',
  '--headless=new',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
];

module.exports = {
  ...baseConfig,
  // The tests share one server and its fleet file: run them one at a time.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  use: {
    ...baseConfig.use,
    baseURL: `http://localhost:${PORT}`,
    launchOptions: {
      ...(baseConfig.use && baseConfig.use.launchOptions),
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: chromiumArgs
    },
    // Galata's default video 'retain-on-failure' needs Playwright's ffmpeg,
    // which cannot be downloaded here.
    video: 'off',
    trace: 'off'
  },
  webServer: {
    command: `jlpm start --port ${PORT}`,
    url: `http://localhost:${PORT}/lab`,
    timeout: 120 * 1000,
    reuseExistingServer: !process.env.CI,
    env: {
      ...process.env,
      QCONNECTOR_UI_STATE_DIR: process.env.QCONNECTOR_UI_STATE_DIR
    }
  }
};
