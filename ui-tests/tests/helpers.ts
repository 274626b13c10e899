/**
 * Shared helpers of the UI tests: the sidebar, its rows, the fleet file the
 * local fleet reads, and where screenshots go.
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

export const SIDEBAR_ID = 'qiskit-connector-lab-sidebar';

/**
 * Where the tests write their screenshots: an ignored folder, so the tests
 * leave the checkout clean. `scripts/screenshots.sh` copies them into
 * docs/screenshots/ (the README's) on purpose.
 */
export const SCREENSHOTS = path.resolve(
  __dirname,
  '..',
  'test-results',
  'screenshots'
);

/**
 * Refresh the sidebar every 2 s (the schema's minimum) instead of 15 s.
 */
export const FAST_SETTINGS = {
  'qiskit-connector-lab:plugin': { refreshInterval: 2 }
};

/**
 * The folder shared with the server (see playwright.config.js).
 */
export function stateDir(): string {
  const dir = process.env.QCONNECTOR_UI_STATE_DIR;
  if (!dir) {
    throw new Error(
      'QCONNECTOR_UI_STATE_DIR is not set (playwright.config.js sets it).'
    );
  }
  return dir;
}

/**
 * Override queues and statuses of the local fleet, e.g.
 * `{fake_fez: {queue: 3, status: 'paused'}}`. The server re-reads the file
 * when its modification time changes.
 *
 * `options.outage` adds `"_outage": reason` to the file: every listing of
 * the local fleet then fails (as if IBM Quantum were down) until the file is
 * written again without it.
 */
export function writeFleet(
  overrides: Record<
    string,
    { queue?: number; status?: string; reason?: string }
  >,
  options: { outage?: string } = {}
): void {
  const file = path.join(stateDir(), 'fleet.json');
  const tmp = `${file}.tmp`;
  const content: Record<string, unknown> = { ...overrides };
  if (options.outage !== undefined) {
    content._outage = options.outage;
  }
  fs.writeFileSync(tmp, JSON.stringify(content));
  // Make sure the mtime moves even within the filesystem's resolution.
  const now = Date.now() / 1000;
  let mtime = now;
  try {
    mtime = Math.max(now, fs.statSync(file).mtimeMs / 1000 + 1);
  } catch {
    // No file yet.
  }
  fs.utimesSync(tmp, mtime, mtime);
  fs.renameSync(tmp, file);
}

/**
 * Forget the pick made with "Use this QPU".
 */
export function clearPick(): void {
  fs.rmSync(path.join(stateDir(), 'pick.json'), { force: true });
}

/**
 * Open the QPU sidebar and wait for its QPUs.
 */
export async function openSidebar(
  page: IJupyterLabPageFixture,
  waitForRows = true
) {
  await page.sidebar.openTab(SIDEBAR_ID);
  const sidebar = page.locator(`#${SIDEBAR_ID}`);
  await expect(sidebar).toBeVisible();
  if (waitForRows) {
    await expect(rows(page).first()).toBeVisible({ timeout: 30_000 });
  }
  return sidebar;
}

/**
 * The QPU rows of the sidebar.
 */
export function rows(page: IJupyterLabPageFixture) {
  return page.locator(`#${SIDEBAR_ID} button.jp-QiskitConnectorLab-row`);
}

/**
 * The row of one QPU.
 */
export function row(page: IJupyterLabPageFixture, name: string) {
  return page.locator(
    `#${SIDEBAR_ID} button.jp-QiskitConnectorLab-row[data-qpu="${name}"]`
  );
}

/**
 * The banner (loading / error / stale) of the sidebar.
 */
export function banner(page: IJupyterLabPageFixture) {
  return page.locator(`#${SIDEBAR_ID} .jp-QiskitConnectorLab-banner`);
}

export function ensureScreenshotDir(): void {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
}

/**
 * Wait until the server itself (no interception) answers the QPU list with
 * fresh data: after a (simulated) outage it backs off 2, 4, 8... s before
 * it asks the fleet again.
 */
export async function waitForFreshFleet(
  page: IJupyterLabPageFixture,
  timeout = 30_000
): Promise<void> {
  await expect
    .poll(
      () =>
        page.evaluate(async () => {
          const config = document.getElementById('jupyter-config-data');
          const base: string =
            JSON.parse(config?.textContent || '{}').baseUrl || '/';
          const reply = await fetch(`${base}qiskit-connector-lab/backends`, {
            cache: 'no-store'
          });
          return reply.ok ? Boolean((await reply.json()).stale) : null;
        }),
      { timeout, intervals: [500, 1000] }
    )
    .toBe(false);
}

/**
 * Run a command of the command palette by its label (JupyterLab and
 * Notebook 7 alike).
 */
export async function runFromPalette(
  page: import('@playwright/test').Page,
  label: string
): Promise<void> {
  const input = page.locator('#modal-command-palette input');
  const item = page
    .locator('#modal-command-palette .lm-CommandPalette-item', {
      hasText: label
    })
    .first();
  // A document that has just opened may take the focus back (which closes
  // the palette): open it again until it stays.
  await expect(async () => {
    if (!(await input.isVisible())) {
      await page.keyboard.press('Control+Shift+C');
    }
    await input.fill(label, { timeout: 2_000 });
    await expect(item).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await page.keyboard.press('Enter');
}
