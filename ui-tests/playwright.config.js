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

// The port of the test server (QCONNECTOR_UI_PORT, default 8888: another run
// on the same machine can use its own); the tests find it in TARGET_URL, as
// Galata does.
const port = process.env.QCONNECTOR_UI_PORT || '8888';
process.env.TARGET_URL = process.env.TARGET_URL || `http://localhost:${port}`;

// The Jupyter server's log goes to a file, printed by scripts/test.sh only
// when a test fails (a passing run stays quiet).
const serverLog = path.join(
  process.env.QCONNECTOR_UI_STATE_DIR,
  'jupyter-server.log'
);

module.exports = {
  ...baseConfig,
  // One line of progress, the counts, and the failures in full.
  reporter: [['line'], ['html', { open: 'never' }]],
  // The wheel's test runs against another server (playwright.wheel.config.js).
  testIgnore: ['**/wheel.spec.ts'],
  // The tests share one server and its fleet file: run them one at a time.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  use: {
    ...baseConfig.use,
    baseURL: `http://localhost:${port}`,
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
    command: `jlpm start --port ${port} > "${serverLog}" 2>&1`,
    url: `http://localhost:${port}/lab`,
    timeout: 120 * 1000,
    reuseExistingServer: !process.env.CI,
    env: {
      ...process.env,
      QCONNECTOR_UI_STATE_DIR: process.env.QCONNECTOR_UI_STATE_DIR
    }
  }
};
