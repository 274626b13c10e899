import { expect, galata, test } from '@jupyterlab/galata';
import * as path from 'path';

import {
  clearPick,
  ensureScreenshotDir,
  FAST_SETTINGS,
  openSidebar,
  row,
  SCREENSHOTS,
  writeFleet
} from './helpers';

test.use({ mockSettings: { ...galata.DEFAULT_SETTINGS, ...FAST_SETTINGS } });

test.beforeEach(() => {
  clearPick();
  // The QPUs these tests pick stay online (the simulation pauses some now and then).
  writeFleet({
    fake_kyiv: { status: 'online' },
    fake_brisbane: { status: 'online' },
    fake_manila: { status: 'online' }
  });
});

test.afterAll(() => {
  writeFleet({});
  clearPick();
});

/**
 * Open a QPU's detail from its row; returns the detail view.
 */
async function openDetail(page: any, name: string) {
  await openSidebar(page);
  await row(page, name).click();
  const detail = page.locator(
    `.jp-QiskitConnectorLab-detail[data-qpu="${name}"]`
  );
  await expect(detail).toBeVisible();
  await expect(detail.locator('svg.jp-QiskitConnectorLab-chipSvg')).toBeVisible(
    { timeout: 30_000 }
  );
  return detail;
}

test('draws the chip with one node per qubit, coloured by error, with a legend', async ({
  page
}) => {
  const detail = await openDetail(page, 'fake_brisbane');
  const qubits = Number(
    (
      await row(page, 'fake_brisbane')
        .locator('.jp-QiskitConnectorLab-meta')
        .textContent()
    )?.match(/(\d+) qubits/)?.[1]
  );
  expect(qubits).toBe(127);

  const chip = detail.locator('svg.jp-QiskitConnectorLab-chipSvg');
  await expect(chip.locator('circle')).toHaveCount(qubits);
  await expect(chip.locator('line')).toHaveCount(144);
  await expect(chip).toHaveAttribute(
    'aria-label',
    /127 qubits, 144 couplers \(heavy-hex layout\)/
  );

  // Readout error first, with its legend.
  const legend = detail.locator('.jp-QiskitConnectorLab-legend');
  await expect(legend).toContainText('Readout error');
  // Five bins of the one readout scale, then "no data" (and outliers, if any).
  await expect(legend).toContainText('< 1.0 %');
  await expect(legend).toContainText('≥ 8.0 %');
  await expect(legend).toContainText('(one scale for every QPU)');
  // The local fleet's detail says whose data it shows.
  await expect(
    detail.locator('.jp-QiskitConnectorLab-localSource')
  ).toContainText('snapshot of fake_brisbane that qiskit-ibm-runtime ships');
  await expect(chip.locator('circle[data-qubit="0"]')).toHaveClass(
    /jp-QiskitConnectorLab-bin\d/
  );

  // Hovering a qubit shows its values.
  await chip.locator('circle[data-qubit="62"]').hover();
  const tooltip = detail.locator('.jp-QiskitConnectorLab-tooltip');
  await expect(tooltip).toBeVisible();
  await expect(tooltip).toHaveText(
    /^Qubit 62: readout error .+, T1 .+ µs, T2 .+ µs$/
  );

  // 2-qubit error, from the keyboard.
  await detail.getByRole('radio', { name: '2-qubit error' }).check();
  await expect(legend).toContainText('2-qubit error');
  await expect(chip.locator('line').first()).toHaveClass(
    /jp-QiskitConnectorLab-bin\d/
  );
  await chip.locator('line[data-edge="0-1"]').hover({ force: true });
  await expect(tooltip).toHaveText(/^Coupler 0–1: ecr error /);

  // The queue sparkline grows as the fleet is polled (every 2 s here).
  const spark = detail.locator('svg.jp-QiskitConnectorLab-sparkline');
  await expect(spark).toBeVisible();
  await expect(spark).toHaveAttribute('data-points', /^([4-9]|\d{2,})$/, {
    timeout: 30_000
  });
  // Medians and basis gates.
  await expect(detail).toContainText('Median readout error');
  await expect(detail).toContainText('Median 2-qubit (ecr) error');
  await expect(detail).toContainText('Median T1');
  await expect(detail).toContainText('Median T2');
  await expect(detail.locator('.jp-QiskitConnectorLab-gate')).toHaveText([
    'ecr',
    'id',
    'rz',
    'sx',
    'x'
  ]);

  await detail.getByRole('radio', { name: 'Readout error' }).check();
  await page.mouse.move(0, 0);
  // Wide enough for the chip with the queue and calibration beside it.
  await page.setViewportSize({ width: 1400, height: 900 });
  await expect(detail.locator('.jp-QiskitConnectorLab-gates')).toBeInViewport();
  ensureScreenshotDir();
  await page
    .locator('.jp-QiskitConnectorLab-detailPanel')
    .screenshot({ path: path.join(SCREENSHOTS, 'detail.png') });
});

test('counts one node per qubit on every QPU of the fleet', async ({
  page
}) => {
  await openSidebar(page);
  const names = await page
    .locator('button.jp-QiskitConnectorLab-row')
    .evaluateAll(els =>
      els.map(e => [
        (e as HTMLElement).dataset.qpu,
        e.querySelector('.jp-QiskitConnectorLab-meta')?.textContent
      ])
    );
  for (const [name, meta] of names) {
    const qubits = Number(meta?.match(/(\d+) qubits?/)?.[1]);
    await row(page, name!).click();
    const chip = page.locator(
      `.jp-QiskitConnectorLab-detail[data-qpu="${name}"] svg.jp-QiskitConnectorLab-chipSvg`
    );
    await expect(chip.locator('circle[data-qubit]')).toHaveCount(qubits, {
      timeout: 30_000
    });
  }
});

test('"Use this QPU", then a bare %qconnect connects to it', async ({
  page
}) => {
  const detail = await openDetail(page, 'fake_kyiv');
  const use = detail.getByRole('button', { name: 'Use this QPU' });
  await expect(use).toHaveAttribute('aria-pressed', 'false');
  await use.click();
  await expect(use).toHaveAttribute('aria-pressed', 'true');
  await expect(detail).toContainText('A bare %qconnect uses fake_kyiv.');
  // The sidebar marks it in use.
  await expect(row(page, 'fake_kyiv')).toContainText('In use');

  await page.notebook.createNew('use-this-qpu.ipynb');
  await page.notebook.setCell(
    0,
    'code',
    '%load_ext qiskit_connector_lab\n%qconnect'
  );
  await page.notebook.runCell(0);
  const output = (await page.notebook.getCellTextOutput(0))?.join('\n') ?? '';
  expect(output).toContain('fake_kyiv');
  // And not the least busy one, unless that is kyiv.
  const least = await page
    .locator(
      'button.jp-QiskitConnectorLab-row .jp-QiskitConnectorLab-leastBusy'
    )
    .count();
  expect(least).toBe(1);
});

test('"Insert connect cell" from the detail view and from the command palette', async ({
  page
}) => {
  await page.notebook.createNew('insert-connect-cell.ipynb');
  const detail = await openDetail(page, 'fake_manila');
  await detail.getByRole('button', { name: 'Insert connect cell' }).click();

  // The empty first cell takes it, and the notebook comes to the front.
  await expect(
    page.locator('.jp-NotebookPanel .jp-Cell').first()
  ).toContainText('%qconnect fake_manila');
  expect(await page.notebook.getCellTextInput(0)).toBe(
    '%load_ext qiskit_connector_lab\n%qconnect fake_manila'
  );

  // From the palette, with the notebook active (the detail view is in the
  // background), it asks which QPU, and loads nothing twice.
  await page.keyboard.press('Control+Shift+C');
  await page
    .locator('#modal-command-palette input')
    .fill('Insert connect cell');
  await page.keyboard.press('Enter');
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('QPU (least busy first)');
  await dialog.locator('select').selectOption('fake_manila');
  await dialog.getByRole('button', { name: /ok|select/i }).click();
  await expect(page.locator('.jp-NotebookPanel .jp-Cell')).toHaveCount(2);
  expect(await page.notebook.getCellTextInput(1)).toBe('%qconnect fake_manila');

  // Run both: the local fleet connects.
  await page.notebook.runCell(0);
  await page.notebook.runCell(1);
  const output = (await page.notebook.getCellTextOutput(1))?.join('\n') ?? '';
  expect(output).toContain('fake_manila');
});

test('"Use this QPU" from the command palette asks which QPU', async ({
  page
}) => {
  await openSidebar(page);
  await page.keyboard.press('Control+Shift+C');
  await page.locator('#modal-command-palette input').fill('Use this QPU');
  await page.keyboard.press('Enter');
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('QPU (least busy first)');
  await dialog.locator('select').selectOption('fake_brisbane');
  await dialog.getByRole('button', { name: /ok|select/i }).click();
  await expect(row(page, 'fake_brisbane')).toContainText('In use');
});
