import { expect, test } from '@jupyterlab/galata';

const SIDEBAR_ID = 'qiskit-connector-lab-sidebar';

/**
 * Load JupyterLab ourselves so the activation log is captured.
 */
test.use({ autoGoto: false });

test('activates, adds both tabs with their labels and icons, and opens the sidebar at first launch', async ({
  page
}) => {
  const logs: string[] = [];
  page.on('console', message => {
    logs.push(message.text());
  });

  await page.goto();

  expect(
    logs.filter(
      s => s === 'JupyterLab extension qiskit-connector-lab is activated!'
    )
  ).toHaveLength(1);

  const tab = page.locator(
    `.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="${SIDEBAR_ID}"]`
  );
  await expect(tab).toHaveCount(1);
  await expect(tab).toHaveAttribute('title', 'IBM Quantum QPUs');
  await expect(
    tab.locator('svg[data-icon="qiskit-connector-lab:qpu"]')
  ).toBeVisible();

  // The Jobs tab: its own label and icon.
  const jobsTab = page.locator(
    '.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="qiskit-connector-lab-jobs"]'
  );
  await expect(jobsTab).toHaveAttribute('title', 'Quantum jobs');
  await expect(
    jobsTab.locator('svg[data-icon="qiskit-connector-lab:jobs"]')
  ).toBeVisible();

  // First launch (a fresh state): the sidebar is open without a click.
  await expect(page.locator(`#${SIDEBAR_ID}`)).toBeVisible();
  await expect(page.locator(`#${SIDEBAR_ID}`)).toContainText(
    'IBM Quantum QPUs'
  );
});
