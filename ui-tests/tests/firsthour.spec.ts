/**
 * The first hour of a user in JupyterLab: the pick is visible and can be
 * cleared, the palette asks which QPU, a configuration error shows the
 * server's hint, and the connection summary reads as a compact table.
 */
import { expect, galata, test } from '@jupyterlab/galata';
import * as path from 'path';

import {
  banner,
  clearPick,
  ensureScreenshotDir,
  FAST_SETTINGS,
  openSidebar,
  row,
  rows,
  runFromPalette,
  SCREENSHOTS,
  SIDEBAR_ID,
  writeFleet
} from './helpers';

test.use({ mockSettings: { ...galata.DEFAULT_SETTINGS, ...FAST_SETTINGS } });

test.beforeEach(() => {
  clearPick();
  writeFleet({ fake_kyiv: { status: 'online' } });
});

test.afterAll(() => {
  writeFleet({});
  clearPick();
});

test('the pick shows in the sidebar, and Clear forgets it', async ({
  page
}) => {
  const sidebar = await openSidebar(page);
  const bar = sidebar.locator('.jp-QiskitConnectorLab-pickBar');
  await expect(bar).toBeHidden();

  await runFromPalette(page, 'Use this QPU');
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('QPU (least busy first)');
  await dialog.locator('select').selectOption('fake_kyiv');
  await dialog.getByRole('button', { name: /ok|select/i }).click();

  await expect(bar).toBeVisible();
  await expect(bar).toContainText(
    'A bare %qconnect uses fake_kyiv, picked here.'
  );
  await expect(row(page, 'fake_kyiv')).toContainText('In use');
  ensureScreenshotDir();
  await page.sidebar.setWidth(320);
  await sidebar.screenshot({
    path: path.join(SCREENSHOTS, 'sidebar-pick.png')
  });

  await bar.getByRole('button', { name: 'Clear' }).click();
  await expect(bar).toBeHidden();
  await expect(
    sidebar.locator('.jp-QiskitConnectorLab-item.jp-mod-selected')
  ).toHaveCount(0);
  // The server forgot it too: a new page shows no pick.
  await page.reload();
  await openSidebar(page);
  await expect(
    page.locator(`#${SIDEBAR_ID} .jp-QiskitConnectorLab-pickBar`)
  ).toBeHidden();
});

test('the palette asks which QPU when no detail view is active', async ({
  page
}) => {
  await openSidebar(page);
  // View a detail, then go back to a notebook: the detail is in the background.
  await row(page, 'fake_kyiv').click();
  await expect(
    page.locator('.jp-QiskitConnectorLab-detail[data-qpu="fake_kyiv"]')
  ).toBeVisible();
  await page.notebook.createNew('palette-asks.ipynb');

  await runFromPalette(page, 'Use this QPU');
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('QPU (least busy first)');
  // Cancel: nothing is picked.
  await dialog.getByRole('button', { name: /cancel/i }).click();
  await expect(dialog).toHaveCount(0);
  await expect(
    page.locator(`#${SIDEBAR_ID} .jp-QiskitConnectorLab-pickBar`)
  ).toBeHidden();

  // With the detail view active, the palette acts on its QPU without asking.
  await page.locator('.lm-TabBar-tab', { hasText: 'fake_kyiv' }).click();
  await runFromPalette(page, 'Use this QPU');
  await expect(page.locator('.jp-Dialog')).toHaveCount(0);
  await expect(row(page, 'fake_kyiv')).toContainText('In use');
});

test('a configuration error shows the server’s hint and waits for the .env', async ({
  page
}) => {
  const error = {
    message:
      'OPEN_PLAN_INSTANCE: is not set, so the connector does not know which instance to use.',
    code: 'config_error',
    hint: 'Set OPEN_PLAN_INSTANCE to your instance’s name or CRN (IBM Quantum Platform → Instances).',
    config: {
      env_file: '/home/student/class/.env',
      endpoint: null,
      changed_at: '2026-01-01T10:00:00+00:00'
    }
  };
  let listings = 0;
  await page.route(/\/qiskit-connector-lab\/(backends|plan)(\?|$)/, route => {
    if (route.request().url().includes('/backends')) {
      listings++;
    }
    return route.fulfill({
      status: 500,
      contentType: 'application/json',
      body: JSON.stringify(error)
    });
  });
  await page.reload();
  await openSidebar(page, false);
  await expect(banner(page)).toHaveAttribute('data-kind', 'error');
  await expect(banner(page)).toContainText(error.message);
  await expect(banner(page).locator('.jp-QiskitConnectorLab-hint')).toHaveText(
    error.hint
  );
  await expect(banner(page)).toContainText(
    'Tried again when /home/student/class/.env changes.'
  );
  await expect(banner(page)).not.toContainText('Next try in');
  // Words wrap at spaces: the variable name is never split.
  const wrap = await banner(page)
    .locator('.jp-QiskitConnectorLab-bannerText')
    .evaluate(el => getComputedStyle(el).overflowWrap);
  expect(wrap).toBe('break-word');
  // The sidebar polls every 2 s here; the .env has not changed: no listing.
  const before = listings;
  await page.waitForTimeout(5_000);
  expect(listings).toBe(before);
});

test('the connection summary is a compact table; errors wrap at spaces', async ({
  page
}) => {
  await page.notebook.createNew('summary.ipynb');
  await page.notebook.setCell(
    0,
    'code',
    '%load_ext qiskit_connector_lab\n%qconnect fake_kyiv --session'
  );
  await page.notebook.runCell(0);
  const output = page.locator('.jp-Cell').first().locator('.jp-OutputArea');
  const summary = output.locator('.qcl-connection');
  await expect(summary).toContainText('Connected to fake_kyiv');
  await expect(summary.locator('.qcl-note').first()).toContainText(
    'The open plan does not allow Sessions'
  );
  const layout = await summary.locator('table').evaluate(table => {
    const th = table.querySelector('th') as HTMLElement;
    const td = table.querySelector('td') as HTMLElement;
    const area = table.closest('.jp-OutputArea') as HTMLElement;
    return {
      thAlign: getComputedStyle(th).textAlign,
      tdAlign: getComputedStyle(td).textAlign,
      gap: td.getBoundingClientRect().left - th.getBoundingClientRect().right,
      width: table.getBoundingClientRect().width,
      area: area.getBoundingClientRect().width,
      left:
        table.getBoundingClientRect().left -
        (table.parentElement as HTMLElement).getBoundingClientRect().left
    };
  });
  expect(layout.thAlign).toBe('left');
  expect(layout.tdAlign).toBe('left');
  expect(layout.gap).toBeLessThan(40); // values sit next to their labels
  expect(layout.left).toBeLessThan(2); // not centred
  expect(layout.width).toBeLessThan(layout.area);
  await expect(summary).not.toContainText('Open (Open Plan)');
  await expect(summary).not.toContainText('batch (Batch)');
  ensureScreenshotDir();
  await page.setViewportSize({ width: 1100, height: 700 });
  await output.screenshot({ path: path.join(SCREENSHOTS, 'summary.png') });

  // A one-line error of the magics wraps at spaces in the output area.
  await page.notebook.setCell(
    0,
    'code',
    '%qconnect --env /no/such/OPEN_PLAN_INSTANCE_folder/.env'
  );
  await page.notebook.runCell(0);
  const stderr = page
    .locator('.jp-Cell')
    .first()
    .locator(
      ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'] pre"
    );
  await expect(stderr).toContainText('UsageError');
  expect(await stderr.evaluate(el => getComputedStyle(el).wordBreak)).toBe(
    'normal'
  );
});
