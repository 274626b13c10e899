import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { refreshAndWait } from './polling';
import { toFleetError } from './request';
import {
  CONFIG_ERROR_CODES,
  FleetPhase,
  IBackendsReply,
  IFleetError,
  IPick,
  IPlanInfo,
  IQPUClient,
  IQPUDetail,
  IQPUFleetModel,
  IQPUSummary
} from './tokens';

/**
 * The default polling interval, in milliseconds (the schema's default).
 */
export const DEFAULT_INTERVAL = 15_000;

/**
 * The smallest interval accepted, in milliseconds.
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
 * What one poll brings back.
 */
interface ITickPayload {
  backends: IBackendsReply;
  plan: IPlanInfo | null;
  pick: IPick | null;
  /**
   * Whether plan and pick were asked for this time.
   */
  meta: boolean;
}

type FleetPoll = Poll<ITickPayload, unknown, 'standby'>;

/**
 * The QPU fleet: one `@lumino/polling` `Poll` of the server shared by every
 * view. It backs off on errors, stands by while the page or every view of
 * it is hidden, and keeps the last good listing (marked stale) when the
 * server fails.
 */
export class QPUFleetModel implements IQPUFleetModel {
  constructor(options: QPUFleetModel.IOptions) {
    this._client = options.client;
    this._interval = clampInterval(options.interval ?? DEFAULT_INTERVAL);
    this._poll = new Poll<ITickPayload, unknown, 'standby'>({
      name: 'qiskit-connector-lab:fleet',
      auto: options.auto ?? true,
      factory: state => this._fetch(state),
      frequency: {
        interval: this._interval,
        backoff: options.backoff ?? true,
        max: maxInterval(this._interval)
      },
      // Stand by while every view is hidden, and (Poll's own rule) while the
      // browser tab is hidden.
      standby: () => this.hidden || 'when-hidden'
    });
    this._poll.ticked.connect(this._onTick, this);
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get pickChanged(): ISignal<this, IPick | null> {
    return this._pickChanged;
  }

  get phase(): FleetPhase {
    if (this._backends) {
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

  get plan(): IPlanInfo | null {
    return this._plan;
  }

  get backends(): IBackendsReply | null {
    return this._backends;
  }

  get qpus(): IQPUSummary[] {
    return this._backends?.qpus ?? [];
  }

  get pick(): IPick | null {
    const pick = this._pick;
    if (pick && this._backends && pick.provider !== this._backends.provider) {
      return null; // a pick made on the other provider is not used here
    }
    return pick;
  }

  get waitsForConfig(): boolean {
    return (
      this._error !== null &&
      CONFIG_ERROR_CODES.has(this._error.code) &&
      this._errorStamp !== undefined
    );
  }

  /**
   * The configuration the server read, as last reported (error or plan).
   */
  get config(): IPlanInfo['config'] | null {
    return this._error?.config ?? this._plan?.config ?? null;
  }

  get error(): IFleetError | null {
    return this._error;
  }

  get stale(): boolean {
    return (
      this._backends !== null && (this._error !== null || this._backends.stale)
    );
  }

  get staleReason(): string {
    if (!this._backends) {
      return '';
    }
    if (this._error) {
      return this._error.message;
    }
    return this._backends.stale ? this._backends.stale_reason : '';
  }

  ageSeconds(now: number = Date.now()): number | null {
    if (!this._backends) {
      return null;
    }
    return (
      Math.max(0, this._backends.age_seconds) +
      Math.max(0, now - this._receivedAt) / 1000
    );
  }

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

  get interval(): number {
    return this._interval;
  }

  set interval(value: number) {
    const interval = clampInterval(value);
    if (interval === this._interval) {
      return;
    }
    const shorter = interval < this._interval;
    this._interval = interval;
    this._poll.frequency = {
      ...this._poll.frequency,
      interval,
      max: maxInterval(interval)
    };
    // A shorter interval takes effect now rather than after the old wait.
    const { phase } = this._poll.state;
    if (shorter && !this._busy && phase !== 'rejected' && phase !== 'stopped') {
      void this._poll.schedule({ interval, phase: 'standby' });
    }
    this._changed.emit();
  }

  get hidden(): boolean {
    return this._visible.size === 0;
  }

  set hidden(value: boolean) {
    this.setViewVisible('default', !value);
  }

  /**
   * Tell the model whether one of its views is visible. The poll stands by
   * while none is; when one is shown again and the data is older than the
   * interval (or missing, or failed) the fleet is asked at once.
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

  async setPick(backend: string | null): Promise<IPick> {
    const pick = await this._client.setPick(backend);
    this._setPick(pick);
    this._changed.emit();
    return pick;
  }

  detail(name: string): Promise<IQPUDetail> {
    return this._client.getBackend(name);
  }

  /**
   * The QPUs, or the server's listing fetched once when there is none yet
   * (e.g. the sidebar was never opened and the poll stands by).
   */
  async ensureQpus(): Promise<IQPUSummary[]> {
    if (!this._backends) {
      const backends = await this._client.getBackends();
      if (!this._backends) {
        this._apply({ backends, plan: null, pick: null, meta: false });
        this._changed.emit();
      }
    }
    return this.qpus;
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
   * The poll's factory: the listing every time; the plan and the pick at the
   * start, on a manual refresh, and until they have been received. After a
   * configuration error it first asks whether the configuration changed, and
   * asks for nothing else until it has (or the user asks).
   */
  private async _fetch(
    state: IPoll.State<ITickPayload, unknown, 'standby'>
  ): Promise<ITickPayload> {
    const asked = state.phase === 'started' || state.phase === 'refreshed';
    if (this.waitsForConfig && !asked) {
      const stamp = await this._configStamp();
      if (stamp === this._errorStamp) {
        throw this._errorReason;
      }
    }
    const meta = this._plan === null || this._pick === null || asked;
    this._setBusy(true);
    let backends: IBackendsReply;
    try {
      backends = await this._client.getBackends();
    } catch (reason) {
      const error = toFleetError(reason);
      this._pendingStamp = CONFIG_ERROR_CODES.has(error.code)
        ? error.config
          ? error.config.changed_at
          : await this._configStamp()
        : undefined;
      throw reason;
    }
    const [plan, pick] = await Promise.all([
      // A failed plan or pick does not hide the listing: they are asked
      // again at the next tick.
      meta ? this._client.getPlan().catch(() => null) : null,
      meta ? this._client.getPick().catch(() => null) : null
    ]);
    return { backends, plan, pick, meta };
  }

  /**
   * When the server's configuration last changed, from `GET plan` (its
   * reply or its error); undefined when the server does not say.
   */
  private async _configStamp(): Promise<string | null | undefined> {
    try {
      const plan = await this._client.getPlan();
      return plan.config ? plan.config.changed_at : undefined;
    } catch (reason) {
      const error = toFleetError(reason);
      return error.config ? error.config.changed_at : undefined;
    }
  }

  private _onTick(
    poll: FleetPoll,
    state: IPoll.State<ITickPayload, unknown, 'standby'>
  ): void {
    switch (state.phase) {
      case 'resolved':
      case 'reconnected':
        this._failures = 0;
        this._error = null;
        this._errorReason = null;
        this._errorStamp = undefined;
        this._apply(state.payload as ITickPayload);
        this._busy = false;
        break;
      case 'rejected':
        if (state.payload !== this._errorReason) {
          this._errorReason = state.payload;
          this._errorStamp = this._pendingStamp;
        }
        if (
          state.interval < this._interval ||
          (this._waitsForConfigAfter(state.payload) &&
            state.interval !== this._interval)
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
        this._error = toFleetError(state.payload);
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

  /**
   * Whether a failure is a configuration error the model can watch for a
   * change of the configuration (no backoff then: nothing is retried).
   */
  private _waitsForConfigAfter(reason: unknown): boolean {
    return (
      CONFIG_ERROR_CODES.has(toFleetError(reason).code) &&
      this._errorStamp !== undefined
    );
  }

  private _apply(payload: ITickPayload): void {
    // The server ranks the QPUs (least busy first); its order is kept.
    this._backends = { ...payload.backends, qpus: payload.backends.qpus ?? [] };
    this._receivedAt = Date.now();
    if (payload.plan) {
      this._plan = payload.plan;
    }
    if (payload.pick) {
      this._setPick(payload.pick);
    }
  }

  private _setPick(pick: IPick): void {
    const old = this._pick;
    this._pick = pick;
    if (
      !old ||
      old.backend !== pick.backend ||
      old.provider !== pick.provider
    ) {
      this._pickChanged.emit(pick);
    }
  }

  private _setBusy(busy: boolean): void {
    if (this._busy !== busy) {
      this._busy = busy;
      this._changed.emit();
    }
  }

  private _client: IQPUClient;
  private _poll: FleetPoll;
  private _interval: number;
  private _visible = new Set<string>();
  private _backends: IBackendsReply | null = null;
  private _plan: IPlanInfo | null = null;
  private _pick: IPick | null = null;
  private _error: IFleetError | null = null;
  private _errorReason: unknown = null;
  /**
   * The configuration's stamp when the current configuration error came
   * (undefined: the server does not report one, so it is retried on time).
   */
  private _errorStamp: string | null | undefined = undefined;
  private _pendingStamp: string | null | undefined = undefined;
  private _failures = 0;
  private _busy = false;
  private _receivedAt = 0;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _pickChanged = new Signal<this, IPick | null>(this);
}

export namespace QPUFleetModel {
  export interface IOptions {
    /**
     * The server API.
     */
    client: IQPUClient;
    /**
     * The polling interval in milliseconds (default 15 s).
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

function clampInterval(ms: number): number {
  if (!isFinite(ms) || ms <= 0) {
    return DEFAULT_INTERVAL;
  }
  return Math.max(MIN_INTERVAL, Math.round(ms));
}

function maxInterval(interval: number): number {
  return Math.min(
    Poll.MAX_INTERVAL,
    Math.max(interval * MAX_INTERVAL_FACTOR, MIN_MAX_INTERVAL)
  );
}
