import { IPoll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { IFreshness, PollingModel } from './polling';
import { toRequestError } from './request';
import { CONFIG_ERROR_CODES, IQPUClient, IQPUListModel } from './tokens';
import {
  IPick,
  IPlanInfo,
  IQPUDetail,
  IQPUListReply,
  IQPUSummary
} from './wire';

export { MIN_INTERVAL } from './polling';

/**
 * The default polling interval, in milliseconds (the schema's default).
 */
export const DEFAULT_INTERVAL = 15_000;

/**
 * What one poll brings back.
 */
interface ITickPayload {
  listing: IQPUListReply;
  plan: IPlanInfo | null;
  pick: IPick | null;
  /**
   * Whether plan and pick were asked for this time.
   */
  meta: boolean;
}

/**
 * The QPUs: one `PollingModel` (a `@lumino/polling` `Poll`) of the server
 * shared by every view. It backs off on errors, stands by while the page or
 * every view of it is hidden, and keeps the last good listing (marked stale)
 * when the server fails. After a configuration error it waits for the
 * configuration to change instead of retrying on a timer.
 */
export class QPUListModel
  extends PollingModel<ITickPayload>
  implements IQPUListModel
{
  constructor(options: QPUListModel.IOptions) {
    super({
      name: 'qiskit-connector-lab:qpus',
      defaultInterval: DEFAULT_INTERVAL,
      interval: options.interval ?? DEFAULT_INTERVAL,
      auto: options.auto,
      backoff: options.backoff
    });
    this._client = options.client;
  }

  get pickChanged(): ISignal<this, IPick | null> {
    return this._pickChanged;
  }

  get plan(): IPlanInfo | null {
    return this._plan;
  }

  get listing(): IQPUListReply | null {
    return this._listing;
  }

  get qpus(): IQPUSummary[] {
    return this._listing?.qpus ?? [];
  }

  get pick(): IPick | null {
    const pick = this._pick;
    if (pick && this._listing && pick.provider !== this._listing.provider) {
      return null; // a pick made on the other provider is not used here
    }
    return pick;
  }

  get waitsForConfig(): boolean {
    return (
      this.error !== null &&
      CONFIG_ERROR_CODES.has(this.error.code) &&
      this._errorStamp !== undefined
    );
  }

  /**
   * The configuration the server read, as last reported (error or plan).
   */
  get config(): IPlanInfo['config'] | null {
    return this.error?.config ?? this._plan?.config ?? null;
  }

  async setPick(qpu: string | null): Promise<IPick> {
    const pick = await this._client.setPick(qpu);
    this._setPick(pick);
    this.emitChanged();
    return pick;
  }

  detail(name: string): Promise<IQPUDetail> {
    return this._client.getQPU(name);
  }

  /**
   * The QPUs, or the server's listing fetched once when there is none yet
   * (e.g. the sidebar was never opened and the poll stands by).
   */
  async ensureQpus(): Promise<IQPUSummary[]> {
    if (!this._listing) {
      const listing = await this._client.getQPUs();
      if (!this._listing) {
        this.accept({ listing, plan: null, pick: null, meta: false });
        this.emitChanged();
      }
    }
    return this.qpus;
  }

  /**
   * The poll's factory: the listing every time; the plan and the pick at the
   * start, on a manual refresh, and until they have been received. After a
   * configuration error it first asks whether the configuration changed, and
   * asks for nothing else until it has (or the user asks).
   */
  protected async fetch(
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
    let listing: IQPUListReply;
    try {
      listing = await this._client.getQPUs();
    } catch (reason) {
      const error = toRequestError(reason);
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
    return { listing, plan, pick, meta };
  }

  protected apply(payload: ITickPayload): IFreshness {
    // The server ranks the QPUs (least busy first); its order is kept.
    this._listing = { ...payload.listing, qpus: payload.listing.qpus ?? [] };
    if (payload.plan) {
      this._plan = payload.plan;
    }
    if (payload.pick) {
      this._setPick(payload.pick);
    }
    return this._listing;
  }

  protected recovered(): void {
    this._errorReason = null;
    this._errorStamp = undefined;
  }

  protected failed(reason: unknown): void {
    if (reason !== this._errorReason) {
      this._errorReason = reason;
      this._errorStamp = this._pendingStamp;
    }
  }

  /**
   * A configuration error the model can watch for a change of the
   * configuration is not retried with backoff: nothing is retried on a
   * timer but the question whether the configuration changed.
   */
  protected backsOff(reason: unknown): boolean {
    return !(
      CONFIG_ERROR_CODES.has(toRequestError(reason).code) &&
      this._errorStamp !== undefined
    );
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
      const error = toRequestError(reason);
      return error.config ? error.config.changed_at : undefined;
    }
  }

  private _setPick(pick: IPick): void {
    const old = this._pick;
    this._pick = pick;
    if (!old || old.qpu !== pick.qpu || old.provider !== pick.provider) {
      this._pickChanged.emit(pick);
    }
  }

  private _client: IQPUClient;
  private _listing: IQPUListReply | null = null;
  private _plan: IPlanInfo | null = null;
  private _pick: IPick | null = null;
  private _errorReason: unknown = null;
  /**
   * The configuration's stamp when the current configuration error came
   * (undefined: the server does not report one, so it is retried on time).
   */
  private _errorStamp: string | null | undefined = undefined;
  private _pendingStamp: string | null | undefined = undefined;
  private _pickChanged = new Signal<this, IPick | null>(this);
}

export namespace QPUListModel {
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
