import { expect, test } from '@jupyterlab/galata';

const SIDEBAR_ID = 'qiskit-connector-lab-sidebar';

/**
 * Load JupyterLab ourselves so the activation log is captured.
 */
test.use({ autoGoto: false });

test('activates and adds the QPU sidebar tab with its icon', async ({
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

  await tab.click();
  await expect(page.locator(`#${SIDEBAR_ID}`)).toBeVisible();
  await expect(page.locator(`#${SIDEBAR_ID}`)).toContainText(
    'IBM Quantum QPUs'
  );
});
