/**
 * Playwright configuration: Galata's defaults, run in Debian's Chromium
 * (`apt-get install chromium`) since Playwright cannot download its own
 * browsers here. Never run `playwright install`.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

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
  use: {
    ...baseConfig.use,
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
    command: 'jlpm start',
    url: 'http://localhost:8888/lab',
    timeout: 120 * 1000,
    reuseExistingServer: !process.env.CI
  }
};
