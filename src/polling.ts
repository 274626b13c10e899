import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IPoll } from '@lumino/polling';

/**
 * Ask a poll now and wait for the answer of that refresh: a tick that
 * resolved, reconnected, was rejected, or stood by or stopped (a standby
 * tick is no answer, but there will be none until the view is shown).
 * Resolves, never rejects; a poll disposed while waiting ends the wait.
 */
export async function refreshAndWait(
  poll: IPoll<unknown, unknown, 'standby'> & { refresh(): Promise<void> }
): Promise<void> {
  await poll.refresh();
  try {
    for (;;) {
      await poll.tick;
      const { phase } = poll.state;
      if (
        phase === 'resolved' ||
        phase === 'reconnected' ||
        phase === 'rejected' ||
        phase === 'standby' ||
        phase === 'stopped'
      ) {
        return;
      }
    }
  } catch {
    // Disposed while waiting.
  }
}

/**
 * Keep a model's polling interval on the `refreshInterval` setting (in
 * seconds) of the plugin's settings, now and whenever it changes.
 */
export function followRefreshInterval(
  settingRegistry: ISettingRegistry,
  pluginId: string,
  model: { interval: number }
): Promise<void> {
  return settingRegistry.load(pluginId).then(settings => {
    const apply = () => {
      const seconds = settings.get('refreshInterval').composite as number;
      if (typeof seconds === 'number' && seconds > 0) {
        model.interval = seconds * 1000;
      }
    };
    apply();
    settings.changed.connect(apply);
  });
}
