/**
 * The Jobs view on the local fleet: jobs that kernels record in the local job
 * store, followed to the end with a notification; cancel from the sidebar;
 * the empty and error states; screenshots in light and dark.
 *
 * The cells record their job in the store with the store's own API (what the
 * local fleet's job recording does for every job a kernel runs on it).
 */
import { expect, galata, test } from '@jupyterlab/galata';

import { FAST_SETTINGS } from './helpers';
import {
  apiJob,
  clearLocalJobs,
  JOBS_ID,
  jobRow,
  jobsBanner,
  openJobs,
  runInNewNotebook,
  setSource,
  shotPath
} from './jobs-helpers';

test.skip(
  process.env.QCONNECTOR_UI_PROVIDER === 'ibm',
  'local fleet tests (this run serves the IBM emulator)'
);

test.use({ mockSettings: { ...galata.DEFAULT_SETTINGS, ...FAST_SETTINGS } });

/**
 * A cell that records a local job (QUEUED), as a kernel running it would.
 */
function recordCell(id: string, qpu: string, tags: string[] = []): string {
  return [
    'from datetime import datetime, timezone',
    'from qiskit_connector_lab.jobs import JobRecord, LocalJobStore',
    'store = LocalJobStore()',
    `store.record(JobRecord(id="${id}", backend="${qpu}", primitive="sampler", status="QUEUED",`,
    `    created=datetime.now(timezone.utc).isoformat(), shots=1000, pubs=1, tags=${JSON.stringify(tags)}))`,
    `print("JOB ${id}")`
  ].join('\n');
}

function finishCell(id: string, status: string, error = ''): string {
  return [
    'from datetime import datetime, timezone',
    'from qiskit_connector_lab.jobs import LocalJobStore',
    'now = datetime.now(timezone.utc).isoformat()',
    `LocalJobStore().update("${id}", status="RUNNING", started=now)`,
    `LocalJobStore().update("${id}", status="${status}", finished=datetime.now(timezone.utc).isoformat()${
      error ? `, error="${error}"` : ''
    })`
  ].join('\n');
}

test.beforeEach(() => clearLocalJobs());
test.afterAll(() => clearLocalJobs());

test('empty, then jobs from two kernels, followed to done with a notification', async ({
  page
}) => {
  const panel = await openJobs(page);
  await expect(jobsBanner(page)).toContainText('No jobs yet');
  await expect(panel.locator('.jp-QiskitConnectorLab-jobsProvider')).toHaveText(
    'Local fleet'
  );

  await runInNewNotebook(page, recordCell('local-a1', 'fake_fez', ['lab']));
  await runInNewNotebook(page, recordCell('local-b1', 'fake_kyiv'));
  await openJobs(page);
  await expect(jobRow(page, 'local-b1')).toBeVisible({ timeout: 20_000 });
  await expect(jobRow(page, 'local-a1')).toBeVisible();
  await expect(jobRow(page, 'local-a1')).toHaveAttribute(
    'data-status',
    'queued'
  );
  await expect(jobRow(page, 'local-a1')).toContainText('lab');
  // A local job never waits in the QPU's queue: no queue beside it.
  await expect(
    jobRow(page, 'local-a1').locator('.jp-QiskitConnectorLab-jobQueue')
  ).toHaveCount(0);
  // The whole id on hover, and a button that copies it.
  await expect(
    jobRow(page, 'local-a1').locator('.jp-QiskitConnectorLab-jobShortId')
  ).toHaveAttribute('title', 'local-a1');
  await expect(
    page.locator(`#${JOBS_ID} button[data-copy="local-a1"]`)
  ).toBeVisible();
  // Newest first.
  const order = await page
    .locator(`#${JOBS_ID} button[data-job]`)
    .evaluateAll(els => els.map(e => (e as HTMLElement).dataset.job));
  expect(order).toEqual(['local-b1', 'local-a1']);

  // Kernel B's job fails, kernel A's finishes: two notifications.
  await setSource(
    page,
    finishCell('local-b1', 'ERROR', 'The circuit has too many qubits.')
  );
  await page.notebook.runCell(0, true);
  await page.sidebar.openTab(JOBS_ID);
  await expect(
    page.locator('.Toastify__toast', {
      hasText: 'Job local-b1 on fake_kyiv failed.'
    })
  ).toBeVisible({
    timeout: 20_000
  });
  await expect(jobRow(page, 'local-b1')).toHaveAttribute(
    'data-status',
    'failed'
  );
  await setSource(page, finishCell('local-a1', 'DONE'));
  await page.notebook.runCell(0, true);
  const toast = page.locator('.Toastify__toast', {
    hasText: 'Job local-a1 on fake_fez is done.'
  });
  await expect(toast).toBeVisible({ timeout: 20_000 });
  await expect(jobRow(page, 'local-a1')).toHaveAttribute('data-status', 'done');

  // The notification links to the job's detail.
  await toast.getByRole('button', { name: 'Show job' }).click();
  const detail = page.locator(`#${JOBS_ID} .jp-QiskitConnectorLab-jobDetail`);
  await expect(detail.locator('.jp-QiskitConnectorLab-jobIdText')).toHaveText(
    'local-a1'
  );
  await expect(detail).toContainText('fake_fez');
  await expect(detail).toContainText('Finished');
  await detail.getByRole('button', { name: 'Back to jobs' }).click();

  // Pending / all.
  await panel.getByRole('button', { name: 'Pending' }).click();
  await expect(jobsBanner(page)).toContainText('No job is queued or running.');
  await panel.getByRole('button', { name: 'All' }).click();
  await expect(page.locator(`#${JOBS_ID} button[data-job]`)).toHaveCount(2);

  // The failed job's detail shows its error text.
  await jobRow(page, 'local-b1').click();
  await expect(detail.locator('.jp-QiskitConnectorLab-jobError')).toHaveText(
    'The circuit has too many qubits.'
  );
});

test('cancel a queued job with a confirmation, by keyboard', async ({
  page
}) => {
  await runInNewNotebook(page, recordCell('local-c1', 'fake_torino'));
  await openJobs(page);
  const row = jobRow(page, 'local-c1');
  await expect(row).toBeVisible({ timeout: 20_000 });
  await row.focus();
  await page.keyboard.press('Enter');
  const detail = page.locator(`#${JOBS_ID} .jp-QiskitConnectorLab-jobDetail`);
  await detail.getByRole('button', { name: 'Cancel job…' }).click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('Cancel job local-c1?');
  await dialog.getByRole('button', { name: 'Keep the job' }).click();
  await expect(row).toBeHidden(); // still in the detail
  await detail.getByRole('button', { name: 'Cancel job…' }).click();
  await dialog.getByRole('button', { name: 'Cancel the job' }).click();
  await expect(detail.locator('.jp-QiskitConnectorLab-jobChip')).toHaveText(
    'cancelled',
    {
      timeout: 10_000
    }
  );
  // The store says so too (the server's job route reads it).
  expect((await apiJob(page, 'local-c1')).status).toBe('CANCELLED');
  await expect(detail.getByRole('button', { name: 'Cancel job…' })).toHaveCount(
    0
  );
  // One toast for one cancel, also after the next polls of the list.
  await page.waitForTimeout(3_000);
  await expect(
    page.locator('.Toastify__toast', { hasText: 'local-c1' })
  ).toHaveCount(1);
});

test('insert a cell that gets the job', async ({ page }) => {
  await runInNewNotebook(page, recordCell('local-i1', 'fake_fez'));
  await openJobs(page);
  await jobRow(page, 'local-i1').click({ timeout: 20_000 });
  await page
    .locator(`#${JOBS_ID} .jp-QiskitConnectorLab-jobDetail`)
    .getByRole('button', { name: 'Insert cell' })
    .click();
  await expect
    .poll(async () => page.notebook.getCellTextInput(1))
    .toBe('%load_ext qiskit_connector_lab\n%qjob local-i1\njob');
  await page.notebook.runCell(1, true);
  const output = (await page.notebook.getCellTextOutput(1))?.join('\n') ?? '';
  expect(output).toContain('local-i1');
});

test('error state when the server fails, then recovery', async ({ page }) => {
  await page.route(/qiskit-connector-lab\/jobs\?/, route =>
    route.fulfill({
      status: 502,
      contentType: 'application/json',
      body: JSON.stringify({
        message:
          'IBM Quantum had a server error (HTTP 502) while listing the jobs.',
        code: 'server_error'
      })
    })
  );
  await openJobs(page);
  await expect(jobsBanner(page)).toHaveAttribute('data-kind', 'error');
  await expect(jobsBanner(page)).toContainText('Cannot load the jobs.');
  await expect(jobsBanner(page)).toContainText('HTTP 502');
  await page.unroute(/qiskit-connector-lab\/jobs\?/);
  await jobsBanner(page).getByRole('button', { name: 'Retry' }).click();
  await expect(jobsBanner(page)).toHaveAttribute('data-kind', 'empty');
});

test('screenshots of the Jobs view, light and dark', async ({ page }) => {
  const cells = [
    recordCell('d4a1c0ffee0000000001', 'fake_fez', ['bell']),
    recordCell('d4a1c0ffee0000000002', 'fake_kyiv', ['ghz', 'lab-3']),
    recordCell('d4a1c0ffee0000000003', 'fake_torino'),
    finishCell('d4a1c0ffee0000000001', 'DONE'),
    finishCell(
      'd4a1c0ffee0000000003',
      'ERROR',
      'Job exceeded the maximum execution time.'
    )
  ].join('\n');
  await runInNewNotebook(page, cells);
  const panel = await openJobs(page);
  await expect(page.locator(`#${JOBS_ID} button[data-job]`)).toHaveCount(3, {
    timeout: 20_000
  });
  await panel.screenshot({ path: shotPath('jobs-light.png') });
  await page.theme.setDarkTheme();
  await panel.screenshot({ path: shotPath('jobs-dark.png') });
  await jobRow(page, 'd4a1c0ffee0000000003').click();
  await expect(panel.locator('.jp-QiskitConnectorLab-jobError')).toBeVisible();
  await panel.screenshot({ path: shotPath('job-detail-dark.png') });
  await page.theme.setLightTheme();
});
