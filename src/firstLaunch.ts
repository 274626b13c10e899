import { IStateDB } from '@jupyterlab/statedb';

/**
 * Where the state database remembers that the sidebar was opened once.
 */
export const FIRST_LAUNCH_KEY = 'qiskit-connector-lab:first-launch';

/**
 * Open the sidebar on the first launch after install, once: the state
 * database remembers it, and later launches keep the layout the user left.
 * Resolves true when it opened the sidebar; a state database that fails
 * leaves the layout alone.
 */
export async function openOnFirstLaunch(
  state: IStateDB,
  open: () => void
): Promise<boolean> {
  try {
    if (await state.fetch(FIRST_LAUNCH_KEY)) {
      return false;
    }
    await state.save(FIRST_LAUNCH_KEY, { opened: new Date().toISOString() });
  } catch {
    return false;
  }
  open();
  return true;
}
