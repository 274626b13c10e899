/**
 * Helpers of the Jobs view's UI tests: the Jobs sidebar, its rows, notebook
 * cells, and where the screenshots go (ignored by git; scripts/screenshots.sh
 * copies them to docs/screenshots/).
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { stateDir } from './helpers';

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

/**
 * One job as the server's job route answers it (the local job store or IBM).
 */
export async function apiJob(
  page: IJupyterLabPageFixture,
  id: string
): Promise<any> {
  return page.evaluate(async (jobId: string) => {
    const config = document.getElementById('jupyter-config-data');
    const base: string = JSON.parse(config?.textContent || '{}').baseUrl || '/';
    const reply = await fetch(
      `${base}qiskit-connector-lab/jobs/${encodeURIComponent(jobId)}`,
      { cache: 'no-store' }
    );
    return reply.json();
  }, id);
}

/**
 * Empty the local job store that the server and its kernels share (SQLite,
 * `jobs.sqlite3` in the state folder): one DELETE in SQLite's own locking, so
 * a server or kernel that has the database open keeps a valid one (removing
 * the files under an open connection could leave a stale -wal behind).
 */
export function clearLocalJobs(): void {
  const db = path.join(stateDir(), 'jobs.sqlite3');
  if (!fs.existsSync(db)) {
    return;
  }
  execFileSync(
    process.env.QCONNECTOR_UI_PYTHON || 'python3',
    [
      '-c',
      [
        'import sqlite3, sys',
        'db = sqlite3.connect(sys.argv[1], timeout=10)',
        'with db:',
        '    db.execute("DELETE FROM jobs")',
        'db.close()'
      ].join('\n'),
      db
    ],
    { timeout: 20_000, stdio: ['ignore', 'ignore', 'inherit'] }
  );
}
