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
