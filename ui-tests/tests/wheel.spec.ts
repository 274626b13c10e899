/**
 * Run by scripts/test_wheel.sh against a server from a fresh virtual
 * environment holding only the built wheel (no Node.js on its PATH): the
 * prebuilt labextension loads and the sidebar lists the local fleet.
 */
import { expect, test } from '@jupyterlab/galata';

import { openSidebar, rows } from './helpers';

test('the wheel alone: the sidebar loads and lists the local fleet', async ({
  page
}) => {
  const sidebar = await openSidebar(page);
  await expect(rows(page)).toHaveCount(10);
  await expect(sidebar.locator('.jp-QiskitConnectorLab-localBadge')).toHaveText(
    'Local fleet'
  );
});
