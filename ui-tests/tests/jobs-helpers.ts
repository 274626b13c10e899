/**
 * Helpers of the Jobs view's UI tests: the Jobs sidebar, its rows, notebook
 * cells, and where the screenshots go (ignored by git; scripts/screenshots.sh
 * copies them to docs/screenshots/).
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

export const JOBS_ID = 'qiskit-connector-lab-jobs';

export const SHOTS = path.resolve(
  __dirname,
  '..',
  'test-results',
  'screenshots'
);

export function shotPath(name: string): string {
  fs.mkdirSync(SHOTS, { recursive: true });
  return path.join(SHOTS, name);
}

export async function openJobs(page: IJupyterLabPageFixture) {
  await page.sidebar.openTab(JOBS_ID);
  const panel = page.locator(`#${JOBS_ID}`);
  await expect(panel).toBeVisible();
  return panel;
}

export function jobRow(page: IJupyterLabPageFixture, id: string) {
  return page.locator(
    `#${JOBS_ID} button.jp-QiskitConnectorLab-jobRow[data-job="${id}"]`
  );
}

export function jobsBanner(page: IJupyterLabPageFixture) {
  return page.locator(`#${JOBS_ID} .jp-QiskitConnectorLab-jobsBanner`);
}

/**
 * Run code in the first cell of a new notebook (a kernel of its own);
 * returns the cell's text output. (After the first notebook JupyterLab may
 * start the kernel without asking, so the kernel dialog is optional.)
 */
export async function runInNewNotebook(
  page: IJupyterLabPageFixture,
  code: string
): Promise<string> {
  await page.menu.clickMenuItem('File>New>Notebook');
  const accept = page.locator('.jp-Dialog .jp-mod-accept');
  try {
    await accept.waitFor({ state: 'visible', timeout: 8000 });
    await accept.click();
  } catch {
    // No kernel dialog this time: the preferred kernel starts.
  }
  await expect(page.locator('.jp-Dialog')).toHaveCount(0);
  await setSource(page, code);
  await page.notebook.runCell(0, true);
  return (await page.notebook.getCellTextOutput(0))?.join('\n') ?? '';
}

/**
 * Put `code` into the active notebook's active cell as it is (typing it
 * would let the editor indent it).
 */
export async function setSource(
  page: IJupyterLabPageFixture,
  code: string
): Promise<void> {
  await page.evaluate(source => {
    const widget = (window as any).jupyterapp.shell.currentWidget;
    widget.content.activeCell.model.sharedModel.setSource(source);
  }, code);
}

/**
 * A job id printed as `JOB <id>` by a cell.
 */
export function printedJobId(output: string): string {
  const match = /JOB ([A-Za-z0-9_-]+)/.exec(output);
  if (!match) {
    throw new Error(`No job id in the cell output: ${output}`);
  }
  return match[1];
}
