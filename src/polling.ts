import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { toRequestError } from './request';
import { IRequestError } from './wire';

/**
 * The smallest polling interval accepted, in milliseconds.
 */
export const MIN_INTERVAL = 1_000;

/**
 * The interval the backoff never exceeds is this many polling intervals...
 */
const MAX_INTERVAL_FACTOR = 8;

/**
 * ...and at least this many milliseconds.
 */
const MIN_MAX_INTERVAL = 60_000;

/**
 * What a polled view is showing.
 *
 * - `loading`: nothing received yet, the first request is in flight.
 * - `ready`: data is shown (maybe stale).
 * - `error`: the last request failed and there is no data to show.
 */
export type PollPhase = 'loading' | 'ready' | 'error';

/**
 * How fresh a server answer is: the fields every polled answer carries.
 */
export interface IFreshness {
  age_seconds: number;
  stale: boolean;
  stale_reason: string;
}

/**
 * One `@lumino/polling` `Poll` of the server, shared by every view of a
 * model: phase, stale data, age, next attempt, backoff, the interval, the
 * views' visibility (stand by while none is shown, or the browser tab is
 * hidden), refresh, busy state and dispose.
 *
 * After a failure the next attempt is never sooner than the interval: Poll
 * draws its backoff from the previous wait, which is zero after a start or a
 * refresh, so left alone it would retry after a random delay between 1 ms
 * and one interval.
 *
 * A subclass says what one tick fetches (`fetch`) and what it keeps of the
 * answer (`apply`); it may poll faster for a while (`pace`), poll while no
 * view is shown (`wanted`), and retry some failures without backoff
 * (`backsOff`).
 */
export abstract class PollingModel<T> {
  constructor(options: PollingModel.IOptions) {
    this._defaultInterval = options.defaultInterval;
    this._interval = clampInterval(options.interval, this._defaultInterval);
    this._poll = new Poll<T, unknown, 'standby'>({
      name: options.name,
      auto: options.auto ?? true,
      factory: state => this._run(state),
      frequency: {
        interval: this._interval,
        backoff: options.backoff ?? true,
        max: maxInterval(this._interval)
      },
      // Stand by while the model is not wanted, and (Poll's own rule) while
      // the browser tab is hidden.
      standby: () => !this.wanted || 'when-hidden'
    });
    this._poll.ticked.connect(this._onTick, this);
  }

  /**
   * Emitted after every change of the data or the state.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get phase(): PollPhase {
    if (this._freshness) {
      return 'ready';
    }
    return this._error ? 'error' : 'loading';
  }

  /**
   * Whether a request is in flight.
   */
  get busy(): boolean {
    return this._busy;
  }

  /**
   * The last error, or null after a success.
   */
  get error(): IRequestError | null {
    return this._error;
  }

  /**
   * Whether the data shown is stale: the server said so, or the last
   * request failed and older data is shown.
   */
  get stale(): boolean {
    return (
      this._freshness !== null &&
      (this._error !== null || this._freshness.stale)
    );
  }

  /**
   * Why the data is stale ('' when it is not).
   */
  get staleReason(): string {
    if (!this._freshness) {
      return '';
    }
    if (this._error) {
      return this._error.message;
    }
    return this._freshness.stale ? this._freshness.stale_reason : '';
  }

  /**
   * The age of the data shown, in seconds (null before the first answer).
   */
  ageSeconds(now: number = Date.now()): number | null {
    if (!this._freshness) {
      return null;
    }
    return (
      Math.max(0, this._freshness.age_seconds) +
      Math.max(0, now - this._receivedAt) / 1000
    );
  }

  /**
   * When the next request is due (ms since the epoch), null if none is
   * scheduled.
   */
  get nextAttempt(): number | null {
    const { interval, timestamp, phase } = this._poll.state;
    if (phase === 'stopped' || phase === 'disposed' || !isFinite(interval)) {
      return null;
    }
    return timestamp + interval;
  }

  /**
   * The wait before the next attempt after a failure (ms), null when the
   * last request did not fail.
   */
  get retryDelay(): number | null {
    const { interval, phase } = this._poll.state;
    return phase === 'rejected' ? interval : null;
  }

  /**
   * The number of failed requests in a row.
   */
  get failures(): number {
    return this._failures;
  }

  /**
   * The polling interval, in milliseconds (at least one second).
   */
  get interval(): number {
    return this._interval;
  }

  set interval(value: number) {
    const interval = clampInterval(value, this._defaultInterval);
    if (interval === this._interval) {
      return;
    }
    this._interval = interval;
    this.repace();
    this._changed.emit();
  }

  /**
   * Whether every view of the model is hidden.
   */
  get hidden(): boolean {
    return this._visible.size === 0;
  }

  set hidden(value: boolean) {
    this.setViewVisible('default', !value);
  }

  /**
   * Tell the model whether one of its views is visible. The poll stands by
   * while none is; when one is shown again and the data is older than the
   * interval (or missing, or failed) the server is asked at once.
   */
  setViewVisible(view: string, visible: boolean): void {
    const wasHidden = this.hidden;
    if (visible) {
      this._visible.add(view);
    } else {
      this._visible.delete(view);
    }
    if (wasHidden && !this.hidden && !this.isDisposed) {
      const age = this.ageSeconds();
      if (this._error || age === null || age * 1000 >= this._interval) {
        void this.refresh();
      }
    }
  }

  /**
   * Ask the server now, and return when the answer has been applied.
   */
  async refresh(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    await refreshAndWait(this._poll);
  }

  /**
   * Start polling (when created with `auto: false`).
   */
  start(): Promise<void> {
    return this._poll.start();
  }

  /**
   * Stop polling until `start()` or `refresh()`.
   */
  stop(): Promise<void> {
    return this._poll.stop();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll.dispose();
    Signal.clearData(this);
  }

  /**
   * One request of the poll (`state` says whether it was asked for).
   */
  protected abstract fetch(
    state: IPoll.State<T, unknown, 'standby'>
  ): Promise<T>;

  /**
   * Keep what an answer brings; return its freshness.
   */
  protected abstract apply(payload: T): IFreshness;

  /**
   * Whether the model polls now (default: while one of its views is shown).
   */
  protected get wanted(): boolean {
    return !this.hidden;
  }

  /**
   * The wait between two answers now (default: the interval). A subclass
   * that changes it calls `repace()`.
   */
  protected get pace(): number {
    return this._interval;
  }

  /**
   * Whether a failure is retried with backoff (default: yes). One that is
   * not is retried after exactly one interval.
   */
  protected backsOff(reason: unknown): boolean {
    return true;
  }

  /**
   * Called with every failed tick's reason, before it is shown (a reason may
   * come twice when the retry is rescheduled).
   */
  protected failed(reason: unknown): void {
    // Nothing by default.
  }

  /**
   * Called after a successful tick, before its answer is applied.
   */
  protected recovered(): void {
    // Nothing by default.
  }

  /**
   * Apply an answer received outside the poll (e.g. fetched once for a
   * command while the poll stands by).
   */
  protected accept(payload: T): void {
    this._freshness = this.apply(payload);
    this._receivedAt = Date.now();
    this.repace();
  }

  /**
   * Drop the data shown (e.g. the filter changed): the phase is loading
   * again until the next answer.
   */
  protected clear(): void {
    this._freshness = null;
  }

  protected emitChanged(): void {
    this._changed.emit();
  }

  /**
   * Follow a new `pace` (or interval): the next request is one new wait
   * after now, not after the old wait.
   */
  protected repace(): void {
    if (this.isDisposed) {
      return;
    }
    const pace = clampInterval(this.pace, this._defaultInterval);
    const frequency = this._poll.frequency;
    const max = maxInterval(this._interval);
    if (frequency.interval === pace && frequency.max === max) {
      return;
    }
    this._poll.frequency = { ...frequency, interval: pace, max };
    const { phase, interval } = this._poll.state;
    if (
      interval !== pace &&
      !this._busy &&
      phase !== 'rejected' &&
      phase !== 'stopped' &&
      phase !== 'constructed'
    ) {
      void this._poll.schedule({ interval: pace, phase: 'standby' });
    }
  }

  private async _run(state: IPoll.State<T, unknown, 'standby'>): Promise<T> {
    this._setBusy(true);
    return this.fetch(state);
  }

  private _onTick(
    poll: Poll<T, unknown, 'standby'>,
    state: IPoll.State<T, unknown, 'standby'>
  ): void {
    switch (state.phase) {
      case 'resolved':
      case 'reconnected':
        this._failures = 0;
        this._error = null;
        this._busy = false;
        this.recovered();
        this.accept(state.payload as T);
        break;
      case 'rejected':
        this.failed(state.payload);
        if (
          state.interval < this._interval ||
          (!this.backsOff(state.payload) && state.interval !== this._interval)
        ) {
          // Poll draws a backoff from the previous wait, which is zero after
          // a start or a refresh: never retry sooner than the interval. The
          // rescheduled tick comes back here with the right wait.
          void poll.schedule({
            interval: this._interval,
            payload: state.payload,
            phase: 'rejected'
          });
          return;
        }
        this._failures += 1;
        this._error = toRequestError(state.payload);
        this._busy = false;
        break;
      case 'standby':
      case 'stopped':
        this._busy = false;
        break;
      default:
        break;
    }
    this._changed.emit();
  }

  private _setBusy(busy: boolean): void {
    if (this._busy !== busy) {
      this._busy = busy;
      this._changed.emit();
    }
  }

  private _poll: Poll<T, unknown, 'standby'>;
  private _defaultInterval: number;
  private _interval: number;
  private _visible = new Set<string>();
  private _freshness: IFreshness | null = null;
  private _error: IRequestError | null = null;
  private _failures = 0;
  private _busy = false;
  private _receivedAt = 0;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

export namespace PollingModel {
  export interface IOptions {
    /**
     * The poll's name (for debugging).
     */
    name: string;
    /**
     * The interval used when none (or a bad one) is given, in ms.
     */
    defaultInterval: number;
    /**
     * The polling interval in milliseconds.
     */
    interval?: number;
    /**
     * Whether to start polling at once (default true).
     */
    auto?: boolean;
    /**
     * Backoff on errors: true (Poll's default growth), false, or a growth
     * factor (default true).
     */
    backoff?: boolean | number;
  }
}

/**
 * An interval in ms, at least `MIN_INTERVAL` (the default when not a
 * positive number).
 */
export function clampInterval(
  ms: number | undefined,
  fallback: number
): number {
  if (ms === undefined || !isFinite(ms) || ms <= 0) {
    return fallback;
  }
  return Math.max(MIN_INTERVAL, Math.round(ms));
}

function maxInterval(interval: number): number {
  return Math.min(
    Poll.MAX_INTERVAL,
    Math.max(interval * MAX_INTERVAL_FACTOR, MIN_MAX_INTERVAL)
  );
}

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
 * Keep model properties on settings in seconds of a plugin's settings, now
 * and whenever they change: `{refreshInterval: ms => (model.interval = ms)}`.
 * A setting that is not a positive number is ignored.
 */
export function followSeconds(
  settingRegistry: ISettingRegistry,
  pluginId: string,
  setters: Record<string, (ms: number) => void>
): Promise<void> {
  return settingRegistry.load(pluginId).then(settings => {
    const apply = () => {
      for (const [key, set] of Object.entries(setters)) {
        const seconds = settings.get(key).composite as number;
        if (typeof seconds === 'number' && seconds > 0) {
          set(seconds * 1000);
        }
      }
    };
    apply();
    settings.changed.connect(apply);
  });
}
