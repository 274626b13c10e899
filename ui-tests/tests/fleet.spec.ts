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
  SCREENSHOTS,
  SIDEBAR_ID,
  waitForFreshFleet,
  writeFleet
} from './helpers';

test.use({ mockSettings: { ...galata.DEFAULT_SETTINGS, ...FAST_SETTINGS } });

test.beforeEach(() => {
  writeFleet({});
  clearPick();
});

test.afterAll(() => {
  writeFleet({});
});

test.describe('QPU sidebar', () => {
  test('shows the local fleet’s QPUs with their queues', async ({ page }) => {
    const sidebar = await openSidebar(page);

    // Plan and instance at the top, and a clear "Local fleet" badge.
    await expect(
      sidebar.locator('.jp-QiskitConnectorLab-localBadge')
    ).toHaveText('Local fleet');
    await expect(
      sidebar.locator('.jp-QiskitConnectorLab-planBadge')
    ).toHaveText(/Open Plan|Paid Plan/);
    await expect(
      sidebar.locator('.jp-QiskitConnectorLab-instanceName')
    ).toHaveText('local fleet');

    // The default local fleet has ten QPUs, every one with a queue number.
    await expect(rows(page)).toHaveCount(10);
    const names = await rows(page).evaluateAll(els =>
      els.map(e => (e as HTMLElement).dataset.qpu)
    );
    expect(names.every(n => /^fake_/.test(n ?? ''))).toBe(true);
    const queues = await sidebar
      .locator('.jp-QiskitConnectorLab-queue')
      .allTextContents();
    expect(queues).toHaveLength(10);
    for (const q of queues) {
      expect(q).toMatch(/^\d+$/);
    }
    // Sorted by queue: online QPUs, shortest queue first.
    const online = await rows(page).evaluateAll(els =>
      els
        .filter(e => (e as HTMLElement).dataset.status === 'online')
        .map(e =>
          Number(e.querySelector('.jp-QiskitConnectorLab-queue')?.textContent)
        )
    );
    expect([...online].sort((a, b) => a - b)).toEqual(online);
    // One least-busy badge, on an online QPU; a status dot on every row.
    await expect(
      sidebar.locator(
        '.jp-QiskitConnectorLab-row .jp-QiskitConnectorLab-leastBusy'
      )
    ).toHaveCount(1);
    await expect(
      sidebar.locator('.jp-QiskitConnectorLab-row .jp-QiskitConnectorLab-dot')
    ).toHaveCount(10);
    // Accessible names say it all.
    await expect(rows(page).first()).toHaveAttribute(
      'aria-label',
      /^fake_\w+, online, \d+ qubits?, .*jobs? queued, least busy/
    );

    ensureScreenshotDir();
    await page.sidebar.setWidth(320);
    await sidebar.screenshot({
      path: path.join(SCREENSHOTS, 'sidebar-light.png')
    });
  });

  test('filters by name and by minimum qubits, from the keyboard', async ({
    page
  }) => {
    const sidebar = await openSidebar(page);
    const filter = sidebar.getByRole('searchbox', {
      name: 'Filter QPUs by name or processor'
    });
    await filter.focus();
    await page.keyboard.type('eagle');
    await expect(rows(page)).toHaveCount(3); // brisbane, sherbrooke, kyiv
    await page.keyboard.press('Escape');
    await expect(rows(page)).toHaveCount(10);

    const min = sidebar.getByRole('spinbutton', {
      name: 'Minimum number of qubits'
    });
    await min.fill('130');
    await expect(rows(page)).toHaveCount(3); // fez, aachen (156), torino (133)
    await min.fill('');

    // Arrow keys move between rows; Enter opens the QPU.
    await rows(page).first().focus();
    await page.keyboard.press('ArrowDown');
    await expect(rows(page).nth(1)).toBeFocused();
    const second = await rows(page).nth(1).getAttribute('data-qpu');
    await page.keyboard.press('Enter');
    await expect(
      page.locator(`.jp-QiskitConnectorLab-detail[data-qpu="${second}"]`)
    ).toBeVisible();
  });

  test('shows a queue change of the fleet without a reload', async ({
    page
  }) => {
    await openSidebar(page);
    await expect(row(page, 'fake_fez')).toBeVisible();
    const before = await row(page, 'fake_fez')
      .locator('.jp-QiskitConnectorLab-queue')
      .textContent();
    expect(before).not.toBe('777');

    writeFleet({
      fake_fez: { queue: 777 },
      fake_kyiv: { status: 'paused', reason: 'maintenance (test)' }
    });

    // The poll (every 2 s here) brings it; no click, no reload.
    await expect(
      row(page, 'fake_fez').locator('.jp-QiskitConnectorLab-queue')
    ).toHaveText('777', {
      timeout: 20_000
    });
    await expect(row(page, 'fake_kyiv')).toHaveAttribute(
      'data-status',
      'paused'
    );
    await expect(
      row(page, 'fake_kyiv').locator('.jp-QiskitConnectorLab-dot')
    ).toHaveClass(/jp-mod-paused/);
    // The longest queue is now last among the online QPUs, with a full bar.
    await expect(
      row(page, 'fake_fez').locator('.jp-QiskitConnectorLab-barFill')
    ).toHaveAttribute('style', /width: 100%/);

    // Online too: the simulated fleet puts a QPU into calibration now and
    // then (a 15-minute window), and a paused QPU is never the least busy.
    writeFleet({ fake_fez: { queue: 0, status: 'online' } });
    await expect(
      row(page, 'fake_fez').locator('.jp-QiskitConnectorLab-queue')
    ).toHaveText('0', {
      timeout: 20_000
    });
    // Nothing is shorter than an empty queue: the least-busy QPU has none.
    await expect(
      page.locator(
        `#${SIDEBAR_ID} .jp-QiskitConnectorLab-item.jp-mod-leastBusy .jp-QiskitConnectorLab-queue`
      )
    ).toHaveText('0');
  });

  test('refreshes on demand', async ({ page }) => {
    const sidebar = await openSidebar(page);
    const asked = page.waitForRequest(r =>
      /\/qiskit-connector-lab\/backends(\?|$)/.test(r.url())
    );
    await sidebar.getByRole('button', { name: 'Refresh the QPU list' }).click();
    await asked;
    await expect(sidebar.locator('.jp-QiskitConnectorLab-age')).toContainText(
      'Updated'
    );
  });
});

test.describe('when the server fails', () => {
  test('says so with no data, and a Retry brings the QPUs', async ({
    page
  }) => {
    const failing = async (route: any) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({
          message: 'IBM Quantum is not answering (test).',
          code: 'upstream_unavailable'
        })
      });
    await page.route('**/qiskit-connector-lab/backends*', failing);
    // The sidebar opens by itself at the first launch, and got the QPUs before
    // the route was set: load the page again, so that it never had any.
    await page.reload();
    await openSidebar(page, false);

    await expect(banner(page)).toHaveAttribute('data-kind', 'error', {
      timeout: 20_000
    });
    await expect(banner(page)).toHaveAttribute('role', 'alert');
    await expect(banner(page)).toContainText('Cannot load the QPUs.');
    await expect(banner(page)).toContainText(
      'IBM Quantum is not answering (test).'
    );
    await expect(banner(page)).toContainText('upstream_unavailable');
    await expect(rows(page)).toHaveCount(0);
    // Never a blank panel: the header and the banner are there.
    await expect(
      page.locator(`#${SIDEBAR_ID} .jp-QiskitConnectorLab-heading`)
    ).toBeVisible();

    await page.unroute('**/qiskit-connector-lab/backends*', failing);
    await banner(page)
      .getByRole('button', { name: 'Retry loading the QPUs' })
      .click();
    await expect(rows(page)).toHaveCount(10);
    await expect(banner(page)).toBeHidden();
  });

  test('keeps the last QPUs, marked stale with their age', async ({ page }) => {
    await openSidebar(page);
    await expect(rows(page)).toHaveCount(10);

    // One route for the whole test (unrouting while a handler is awaiting
    // `route.fetch()` can leave that request hanging).
    let mode: 'pass' | 'stale' | 'abort' = 'stale';
    await page.route('**/qiskit-connector-lab/backends*', async route => {
      if (mode === 'abort') {
        return route.abort('connectionrefused');
      }
      if (mode === 'pass') {
        return route.continue();
      }
      // The server answers with its last good data, marked stale...
      const response = await route.fetch();
      const json = await response.json();
      return route.fulfill({
        response,
        json: {
          ...json,
          stale: true,
          age_seconds: 125,
          stale_reason: 'IBM Quantum did not answer; showing the last listing.'
        }
      });
    });
    await expect(banner(page)).toHaveAttribute('data-kind', 'stale', {
      timeout: 20_000
    });
    await expect(banner(page)).toContainText('Stale data from 2 min ago.');
    await expect(banner(page)).toContainText(
      'IBM Quantum did not answer; showing the last listing.'
    );
    await expect(rows(page)).toHaveCount(10);
    await expect(
      page.locator(`#${SIDEBAR_ID} .jp-QiskitConnectorLab-age`)
    ).toContainText('stale');

    // ...or the request fails outright: the list stays, with the error.
    mode = 'abort';
    await expect(banner(page)).toContainText(
      'The Jupyter server cannot be reached.',
      { timeout: 20_000 }
    );
    await expect(banner(page)).toHaveAttribute('data-kind', 'stale');
    await expect(rows(page)).toHaveCount(10);
    const retry = banner(page).getByRole('button', {
      name: 'Retry loading the QPUs'
    });
    await expect(retry).toBeVisible();

    mode = 'pass';
    await retry.click();
    await expect(banner(page)).toBeHidden();
    await expect(rows(page)).toHaveCount(10);
  });

  test('keeps the QPUs through an outage of the fleet, then shows fresh data', async ({
    page
  }) => {
    // No interception: the real server fails to list the local fleet, serves
    // its last good listing marked stale, and backs off (2, 4, 8... s).
    test.setTimeout(120_000);
    await openSidebar(page);
    await expect(rows(page)).toHaveCount(10);
    await expect(banner(page)).toBeHidden();
    const age = page.locator(`#${SIDEBAR_ID} .jp-QiskitConnectorLab-age`);
    const fezQueue = row(page, 'fake_fez').locator(
      '.jp-QiskitConnectorLab-queue'
    );
    await expect(fezQueue).not.toHaveText('4321');

    // The server's own reply says stale, with its one-sentence reason.
    const staleReply = page.waitForResponse(
      async r =>
        /\/qiskit-connector-lab\/backends(\?|$)/.test(r.url()) &&
        r.status() === 200 &&
        (await r.json()).stale === true,
      { timeout: 30_000 }
    );
    staleReply.catch(() => undefined); // awaited below; no unhandled rejection
    try {
      writeFleet({}, { outage: 'maintenance drill (test)' });

      await expect(banner(page)).toHaveAttribute('data-kind', 'stale', {
        timeout: 20_000
      });
      await expect(banner(page)).toHaveAttribute('role', 'status');
      await expect(banner(page)).toContainText('Stale data from');
      await expect(banner(page)).toContainText(
        'Simulated outage of the local fleet: maintenance drill (test); showing the last good data.'
      );
      const reply = await (await staleReply).json();
      expect(reply.stale_reason).toBe(
        'Simulated outage of the local fleet: maintenance drill (test); showing the last good data.'
      );
      expect(reply.qpus).toHaveLength(10);
      // Never blank: the last good list stays, its age marked stale.
      await expect(rows(page)).toHaveCount(10);
      await expect(
        page.locator(`#${SIDEBAR_ID} .jp-QiskitConnectorLab-queue`)
      ).toHaveCount(10);
      await expect(age).toContainText('stale');
      await expect(
        banner(page).getByRole('button', { name: 'Retry loading the QPUs' })
      ).toBeVisible();

      // The outage ends (with a new queue, to tell fresh data from the old):
      // after the server's backoff and the next poll, the banner goes.
      writeFleet({ fake_fez: { queue: 4321 } });
      await expect(banner(page)).toBeHidden({ timeout: 20_000 });
      await expect(fezQueue).toHaveText('4321', { timeout: 20_000 });
      await expect(age).toContainText('Updated');
      await expect(age).not.toContainText('stale');
      await expect(rows(page)).toHaveCount(10);
    } finally {
      // Whatever happened, leave a healthy fleet (and server) to the others.
      writeFleet({});
      await waitForFreshFleet(page);
    }
  });
});

test.describe('dark theme', () => {
  test('uses the theme’s colours', async ({ page }) => {
    await page.theme.setDarkTheme();
    const sidebar = await openSidebar(page);
    await expect(
      sidebar.locator('.jp-QiskitConnectorLab-localBadge')
    ).toBeVisible();

    const colours = await sidebar.evaluate(el => {
      const root = getComputedStyle(document.body);
      const row = el.querySelector('.jp-QiskitConnectorLab-row') as HTMLElement;
      const probe = document.createElement('div');
      probe.style.background = root.getPropertyValue('--jp-layout-color1');
      document.body.appendChild(probe);
      const layout1 = getComputedStyle(probe).backgroundColor;
      probe.remove();
      return {
        sidebar: getComputedStyle(el).backgroundColor,
        row: getComputedStyle(row).backgroundColor,
        text: getComputedStyle(row).color,
        layout1
      };
    });
    // The panel takes the dark theme's layout colour, and its text is light.
    expect(colours.sidebar).toBe(colours.layout1);
    const rgb = (s: string) =>
      (s.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
    const luminance = (s: string) => rgb(s).reduce((a, b) => a + b, 0) / 3;
    expect(luminance(colours.sidebar)).toBeLessThan(80);
    expect(luminance(colours.row)).toBeLessThan(80);
    expect(luminance(colours.text)).toBeGreaterThan(150);

    ensureScreenshotDir();
    await page.sidebar.setWidth(320);
    await sidebar.screenshot({
      path: path.join(SCREENSHOTS, 'sidebar-dark.png')
    });
  });
});
