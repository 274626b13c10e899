/**
 * The Jobs view on the IBM path: the test server runs the project's API
 * emulator in-process (QCONNECTOR_UI_PROVIDER=ibm, see
 * jupyter_server_test_config.py); the kernel and the server use the REAL
 * qiskit-ibm-runtime client against it. Jobs stay queued 6 s, run 1 s.
 *
 *   QCONNECTOR_UI_PROVIDER=ibm jlpm playwright test tests/jobs-ibm.spec.ts
 */
import {
  expect,
  galata,
  IJupyterLabPageFixture,
  test
} from '@jupyterlab/galata';

import { FAST_SETTINGS } from './helpers';
import {
  apiJob,
  JOBS_ID,
  jobRow,
  openJobs,
  printedJobId,
  runInNewNotebook,
  setSource,
  shotPath
} from './jobs-helpers';

test.skip(
  process.env.QCONNECTOR_UI_PROVIDER !== 'ibm',
  'needs the test server in IBM emulator mode (QCONNECTOR_UI_PROVIDER=ibm)'
);

test.use({ mockSettings: { ...galata.DEFAULT_SETTINGS, ...FAST_SETTINGS } });
test.setTimeout(180_000);

function submitCell(count = 1): string {
  return [
    '%load_ext qiskit_connector_lab',
    '%qconnect --quiet',
    'from qiskit import QuantumCircuit',
    'from qiskit.transpiler import generate_preset_pass_manager',
    'from qiskit_ibm_runtime import SamplerV2',
    'qc = QuantumCircuit(2); qc.h(0); qc.cx(0, 1); qc.measure_all()',
    'isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(qc)',
    `jobs = [SamplerV2(mode=backend).run([isa], shots=100) for _ in range(${count})]`,
    'for job in jobs: print("JOB", job.job_id())'
  ].join('\n');
}

/**
 * The notifications (shown or closed) that say a job finished.
 */
async function finishNotes(
  page: IJupyterLabPageFixture,
  id: string
): Promise<{ message: string; createdAt: number }[]> {
  const all = await page.notifications;
  return all
    .filter(n => n.message.startsWith(`Job ${id} on `))
    .map(n => ({ message: n.message, createdAt: n.createdAt }));
}

test('a cell submits jobs: queued in the Jobs view, then done with a notification', async ({
  page
}) => {
  await openJobs(page);
  const output = await runInNewNotebook(page, submitCell(3));
  const ids = output
    .split('\n')
    .filter(line => line.startsWith('JOB '))
    .map(line => printedJobId(line));
  expect(ids).toHaveLength(3);
  await openJobs(page);
  for (const id of ids) {
    await expect(jobRow(page, id)).toHaveAttribute('data-status', 'queued', {
      timeout: 20_000
    });
  }
  await expect(
    page.locator(`#${JOBS_ID} .jp-QiskitConnectorLab-jobsProvider`)
  ).toHaveText('IBM Quantum');
  await page
    .locator(`#${JOBS_ID}`)
    .screenshot({ path: shotPath('jobs-ibm-queued.png') });

  // Each job's notification, and how long after the job finished it came
  // (the notification's own creation time, against the job's end as the
  // server reports it: one machine, one clock).
  const delays: number[] = [];
  for (const id of ids) {
    const toast = page.locator('.Toastify__toast', { hasText: `Job ${id} on` });
    await expect(toast).toContainText('is done', { timeout: 60_000 });
    const job = await apiJob(page, id);
    expect(job.status).toBe('DONE');
    const notes = await finishNotes(page, id);
    expect(notes).toHaveLength(1);
    delays.push((notes[0].createdAt - Date.parse(job.finished)) / 1000);
  }
  for (const id of ids) {
    await expect(jobRow(page, id)).toHaveAttribute('data-status', 'done');
  }
  const sorted = [...delays].sort((a, b) => a - b);
  console.log(
    `job finished -> notification (s): ${delays.map(d => d.toFixed(2)).join(', ')}; median ${sorted[1].toFixed(2)}`
  );
  // Within 2 s of the job's end, every one of them.
  for (const delay of delays) {
    expect(delay).toBeGreaterThanOrEqual(0);
    expect(delay).toBeLessThanOrEqual(2);
  }
  // Exactly once: still one notification per job after more polls of the
  // list (the toasts close after 10 s; the notification centre keeps them).
  await page.waitForTimeout(4_000);
  for (const id of ids) {
    expect(await finishNotes(page, id)).toHaveLength(1);
  }

  // The kernel's job object agrees, and has Bell counts.
  await setSource(
    page,
    'counts = jobs[0].result()[0].data.meas.get_counts()\nprint(jobs[0].status(), sorted(counts))'
  );
  await page.notebook.runCell(0, true);
  const result = (await page.notebook.getCellTextOutput(0))?.join('\n') ?? '';
  expect(result).toContain("DONE ['00', '11']");
});

test('cancel a queued job on the emulator path', async ({ page }) => {
  const output = await runInNewNotebook(page, submitCell(1));
  const id = printedJobId(output);
  await openJobs(page);
  await expect(jobRow(page, id)).toHaveAttribute('data-status', 'queued', {
    timeout: 20_000
  });
  await jobRow(page, id).click();
  const detail = page.locator(`#${JOBS_ID} .jp-QiskitConnectorLab-jobDetail`);
  await expect(detail.locator('.jp-QiskitConnectorLab-jobIdText')).toHaveText(
    id
  );
  await detail.getByRole('button', { name: 'Cancel job…' }).click();
  await page
    .locator('.jp-Dialog')
    .getByRole('button', { name: 'Cancel the job' })
    .click();
  await expect(detail.locator('.jp-QiskitConnectorLab-jobChip')).toHaveText(
    'cancelled',
    {
      timeout: 15_000
    }
  );
  expect((await apiJob(page, id)).status).toBe('CANCELLED');
  // One notice for one cancel, also after the next polls of the list.
  await page.waitForTimeout(4_000);
  const notes = (await page.notifications).filter(n => n.message.includes(id));
  expect(notes.map(n => n.message)).toEqual([`Job ${id} was cancelled.`]);
  await expect(page.locator('.Toastify__toast', { hasText: id })).toHaveCount(
    1
  );
  // The kernel's job object sees it cancelled too (the real client asks the emulator).
  await setSource(page, 'print(jobs[0].status())');
  await page.notebook.runCell(0, true);
  expect((await page.notebook.getCellTextOutput(0))?.join('\n')).toContain(
    'CANCELLED'
  );
});
