/**
 * Sign in from the sidebar, on the IBM path with no API key configured: the
 * test server runs the project's API emulator in-process
 * (QCONNECTOR_UI_PROVIDER=signin, see jupyter_server_test_config.py) and
 * starts on the local fleet; the server uses the REAL qiskit-ibm-runtime
 * client against the emulator.
 *
 *   QCONNECTOR_UI_PROVIDER=signin jlpm playwright test tests/signin.spec.ts
 *
 * Sign in with the emulator's key, choose an instance, see IBM's QPUs; reload
 * and see the instance; sign out (confirmed) and see the local fleet again.
 */
import { expect, galata, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

import {
  ensureScreenshotDir,
  FAST_SETTINGS,
  openSidebar,
  rows,
  runFromPalette,
  SCREENSHOTS,
  SIDEBAR_ID,
  stateDir
} from './helpers';

test.skip(
  process.env.QCONNECTOR_UI_PROVIDER !== 'signin',
  'needs the test server in sign-in mode (QCONNECTOR_UI_PROVIDER=signin)'
);

test.use({ mockSettings: { ...galata.DEFAULT_SETTINGS, ...FAST_SETTINGS } });
test.setTimeout(180_000);

/**
 * The emulator's API key (the test server wrote it for this spec).
 */
function apiKey(): string {
  return fs.readFileSync(path.join(stateDir(), 'api-key'), 'utf-8').trim();
}

function section(page: import('@playwright/test').Page) {
  return page.locator(`#${SIDEBAR_ID} .jp-QiskitConnectorLab-account`);
}

async function rowNames(page: any): Promise<string[]> {
  return rows(page).evaluateAll((els: Element[]) =>
    els.map(el => el.getAttribute('data-qpu') ?? '')
  );
}

test('sign in from the sidebar, see IBM, reload, sign out and see the local fleet', async ({
  page
}) => {
  ensureScreenshotDir();
  await openSidebar(page);
  const account = section(page);
  await expect(account).toBeVisible();
  const fleet = await rowNames(page);
  expect(fleet.length).toBeGreaterThan(0);

  // The form: a password field and a link to where IBM creates keys.
  await account.getByRole('button', { name: 'Sign in to IBM Quantum' }).click();
  const key = account.getByLabel('IBM Quantum API key', { exact: true });
  await expect(key).toBeFocused();
  await expect(key).toHaveAttribute('type', 'password');
  await expect(
    account.getByRole('link', { name: /Create an API key/ })
  ).toHaveAttribute('href', /^https:\/\/quantum\.cloud\.ibm\.com\//);
  await account.screenshot({ path: path.join(SCREENSHOTS, 'signin-form.png') });

  // A wrong key: one line, nothing stored, the form stays open.
  await key.fill('not-the-emulator-key-0123456789');
  await key.press('Enter');
  // (The server's first check also loads the IBM client: seconds on a busy
  // machine.)
  await expect(account.getByRole('alert')).toContainText(
    'IBM refused this API key',
    { timeout: 30_000 }
  );

  // The right key, typed: the instances to choose from, keyboard only.
  await key.fill(apiKey());
  await key.press('Enter');
  const choices = account.locator('.jp-QiskitConnectorLab-instanceChoice');
  await expect(choices.first()).toBeVisible({ timeout: 30_000 });
  await expect(choices).toContainText([/open-instance \(open plan, free/]);
  await expect(account.getByRole('alert')).toBeHidden();
  await account.screenshot({
    path: path.join(SCREENSHOTS, 'signin-instances.png')
  });
  await account.getByRole('radio', { name: /open-instance/ }).check();
  await account
    .getByRole('button', { name: 'Sign in', exact: true })
    .press('Enter');

  // Signed in: the header says so, and the list is IBM's, with no reload.
  await expect(account).toContainText('Signed in: open-instance (open plan');
  await expect(account).toContainText(
    'Stored in ~/.qiskit/qiskit-ibm.json (account qiskit-connector-lab)'
  );
  // IBM's QPUs (the emulator serves ibm_* names), no longer the local fleet. (Not "different from before": the
  // local fleet's simulated queues reorder its rows by themselves.)
  await expect
    .poll(
      async () => {
        const names = await rowNames(page);
        return names.length > 0 && names.every(name => /^ibm_/.test(name));
      },
      { timeout: 30_000 }
    )
    .toBe(true);
  const ibm = await rowNames(page);
  expect(ibm.length).toBeGreaterThan(0);
  expect(ibm.every(name => /^ibm_/.test(name))).toBe(true);
  await expect(
    page.locator(`#${SIDEBAR_ID} .jp-QiskitConnectorLab-localBadge`)
  ).toHaveCount(0);
  await account.screenshot({
    path: path.join(SCREENSHOTS, 'signin-signed-in.png')
  });
  const page_text = await page.content();
  expect(page_text).not.toContain(apiKey());

  // The same after a reload (the server keeps the account, not the page).
  await page.reload();
  await openSidebar(page);
  await expect(section(page)).toContainText('Signed in: open-instance', {
    timeout: 30_000
  });
  await expect
    .poll(async () => (await rowNames(page)).sort(), { timeout: 30_000 })
    .toEqual([...ibm].sort());

  // Sign out: asked first; cancelling keeps the account.
  await section(page).getByRole('button', { name: 'Sign out' }).click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('Sign out of IBM Quantum?');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(section(page)).toContainText('Signed in: open-instance');
  await section(page).getByRole('button', { name: 'Sign out' }).click();
  await page
    .locator('.jp-Dialog')
    .getByRole('button', { name: 'Sign out' })
    .click();
  await expect(
    section(page).getByRole('button', { name: 'Sign in to IBM Quantum' })
  ).toBeVisible();
  await expect
    .poll(async () => (await rowNames(page)).sort(), { timeout: 30_000 })
    .toEqual([...fleet].sort());
  expect(fleet.every(name => /^fake_/.test(name))).toBe(true);
  await expect(
    page.locator(`#${SIDEBAR_ID} .jp-QiskitConnectorLab-localBadge`)
  ).toHaveText('Local fleet');
  // And after a reload too: the server forgot the account.
  await page.reload();
  await openSidebar(page);
  await expect(
    section(page).getByRole('button', { name: 'Sign in to IBM Quantum' })
  ).toBeVisible({ timeout: 30_000 });
  await expect
    .poll(async () => (await rowNames(page)).sort(), { timeout: 30_000 })
    .toEqual([...fleet].sort());
});

test('the command palette opens the sign-in form', async ({ page }) => {
  await openSidebar(page);
  await runFromPalette(page, 'Sign in to IBM Quantum');
  await expect(
    section(page).getByLabel('IBM Quantum API key', { exact: true })
  ).toBeFocused();
  await section(page).getByRole('button', { name: 'Cancel' }).first().click();
  await expect(
    section(page).getByRole('button', { name: 'Sign in to IBM Quantum' })
  ).toBeVisible();
});
