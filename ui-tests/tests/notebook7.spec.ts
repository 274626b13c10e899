/**
 * Notebook 7: the same extension on the same server (`/notebooks/...`).
 * The QPU list opens from the palette (once), a detail replaces the list in
 * place with a Back button, and %qconnect runs in a notebook.
 */
import { expect, Page, test } from '@playwright/test';
import * as path from 'path';

import {
  clearPick,
  ensureScreenshotDir,
  runFromPalette,
  SCREENSHOTS,
  SIDEBAR_ID,
  writeFleet
} from './helpers';

const BASE = process.env.TARGET_URL ?? 'http://localhost:8888';

test.beforeEach(() => {
  clearPick();
  writeFleet({ fake_manila: { status: 'online' } });
});

test.afterAll(() => {
  writeFleet({});
});

/**
 * Create an empty notebook through the server's REST API and open it in
 * Notebook 7.
 */
async function openNotebook(page: Page, name: string): Promise<void> {
  const reply = await page.request.put(`${BASE}/api/contents/${name}`, {
    data: {
      type: 'notebook',
      format: 'json',
      content: {
        cells: [],
        metadata: {
          kernelspec: {
            name: 'python3',
            display_name: 'Python 3',
            language: 'python'
          }
        },
        nbformat: 4,
        nbformat_minor: 5
      }
    }
  });
  expect(reply.ok()).toBe(true);
  await page.goto(`${BASE}/notebooks/${name}`);
  await expect(page.locator('.jp-NotebookPanel')).toBeVisible({
    timeout: 60_000
  });
  await expect(
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
  ).toHaveCount(1, { timeout: 60_000 });
}

test('Notebook 7: the QPU list, a detail in place, and %qconnect', async ({
  page
}) => {
  await openNotebook(page, 'notebook7.ipynb');

  // The palette lists the sidebar once (Notebook 7's own "Show …" command),
  // once the extension has added its panel (later than the notebook itself
  // on a loaded machine).
  await expect(page.locator(`#${SIDEBAR_ID}`)).toBeAttached({
    timeout: 60_000
  });
  // A notebook that has just opened may take the focus back, which closes
  // the palette: open it again until it stays, as runFromPalette does.
  const input = page.locator('#modal-command-palette input');
  const items = page.locator('#modal-command-palette .lm-CommandPalette-item', {
    hasText: 'Show IBM Quantum QPUs'
  });
  await expect(async () => {
    if (!(await input.isVisible())) {
      await page.keyboard.press('Control+Shift+C');
    }
    await input.fill('Show IBM Quantum QPUs', { timeout: 2_000 });
    await expect(items.first()).toBeVisible({ timeout: 2_000 });
    await expect(items).toHaveCount(1, { timeout: 2_000 }); // once, not twice
  }).toPass({ timeout: 60_000 });
  await page.keyboard.press('Escape');

  await runFromPalette(page, 'Show IBM Quantum QPUs');
  const sidebar = page.locator(`#${SIDEBAR_ID}`);
  await expect(sidebar).toBeVisible();
  const rows = sidebar.locator('button.jp-QiskitConnectorLab-row');
  await expect(rows).toHaveCount(10, { timeout: 30_000 });
  await expect(sidebar.locator('.jp-QiskitConnectorLab-localBadge')).toHaveText(
    'Local fleet'
  );

  // A detail replaces the list, with a Back button.
  await sidebar
    .locator('button.jp-QiskitConnectorLab-row[data-qpu="fake_manila"]')
    .click();
  const detail = sidebar.locator(
    '.jp-QiskitConnectorLab-detail[data-qpu="fake_manila"]'
  );
  await expect(detail).toBeVisible();
  await expect(detail.locator('svg.jp-QiskitConnectorLab-chipSvg')).toBeVisible(
    {
      timeout: 30_000
    }
  );
  await expect(detail.locator('circle[data-qubit]')).toHaveCount(5);
  await expect(rows.first()).toBeHidden();
  ensureScreenshotDir();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'notebook7.png') });

  // "Insert connect cell" puts the cell into the notebook; run it.
  await detail.getByRole('button', { name: 'Insert connect cell' }).click();
  const cell = page.locator('.jp-NotebookPanel .jp-CodeCell').first();
  await expect(cell).toContainText('%qconnect fake_manila');
  await cell.click();
  await page.keyboard.press('Shift+Enter');
  await expect(cell.locator('.jp-OutputArea')).toContainText(
    'Connected to fake_manila',
    { timeout: 60_000 }
  );

  await detail.getByRole('button', { name: 'Back to the QPU list' }).click();
  await expect(detail).toHaveCount(0);
  await expect(rows.first()).toBeVisible();
});
