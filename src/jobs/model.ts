import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { refreshAndWait } from '../polling';
import { toFleetError } from '../request';
import { IFleetError } from '../tokens';
import {
  IJob,
  IJobDetail,
  IJobsClient,
  IJobsReply,
  isFinal,
  PENDING_STATUSES
} from './tokens';

/**
 * The default polling interval of the jobs (ms).
 */
export const DEFAULT_JOBS_INTERVAL = 15_000;

/**
 * How many jobs the list asks for.
 */
export const JOBS_LIMIT = 30;

/**
 * At most this many followed jobs that left the list are asked for one by
 * one per tick.
 */
const MAX_LOOKUPS = 5;

/**
 * Where the browser remembers the jobs it saw pending (so a reload still
 * notifies when they finish).
 */
export const SEEN_KEY = 'qiskit-connector-lab:jobs-seen-pending';

export type JobsPhase = 'loading' | 'ready' | 'error';

type JobsPoll = Poll<IJobsReply, unknown, 'standby'>;

/**
 * The jobs: one `@lumino/polling` `Poll` of the server's `GET jobs`.
 *
 * It stands by while no view shows the jobs, unless a job this browser saw
 * queued or running is still being followed: then it keeps asking (the
 * browser tab must be visible, Poll's own rule) so that `finished` fires when
 * the job is done, failed or cancelled.
 */
export class JobsModel {
  constructor(options: JobsModel.IOptions) {
    this._client = options.client;
    this._storage = options.storage ?? safeStorage();
    this._interval = Math.max(1000, options.interval ?? DEFAULT_JOBS_INTERVAL);
    this._loadSeen();
    this._poll = new Poll<IJobsReply, unknown, 'standby'>({
      name: 'qiskit-connector-lab:jobs',
      auto: options.auto ?? true,
      factory: () => this._fetch(),
      frequency: {
        interval: this._interval,
        backoff: true,
        max: Math.max(this._interval * 8, 60_000)
      },
      standby: () =>
        (this._visible.size === 0 && this._seen.size === 0) || 'when-hidden'
    });
    this._poll.ticked.connect(this._onTick, this);
  }

  /**
   * Emitted after every change of the data or the state.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * Emitted once for each job this browser saw pending that is now final.
   */
  get finished(): ISignal<this, IJob> {
    return this._finished;
  }

  get phase(): JobsPhase {
    if (this._reply) {
      return 'ready';
    }
    return this._error ? 'error' : 'loading';
  }

  get busy(): boolean {
    return this._busy;
  }

  get reply(): IJobsReply | null {
    return this._reply;
  }

  get jobs(): IJob[] {
    return this._reply?.jobs ?? [];
  }

  get error(): IFleetError | null {
    return this._error;
  }

  get stale(): boolean {
    return this._reply !== null && (this._error !== null || this._reply.stale);
  }

  get staleReason(): string {
    if (!this._reply) {
      return '';
    }
    return this._error ? this._error.message : this._reply.stale_reason;
  }

  ageSeconds(now: number = Date.now()): number | null {
    if (!this._reply) {
      return null;
    }
    return (
      Math.max(0, this._reply.age_seconds) +
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
   * Only jobs that are queued or running (true), or every recent job.
   */
  get pendingOnly(): boolean {
    return this._pendingOnly;
  }

  set pendingOnly(value: boolean) {
    if (value === this._pendingOnly) {
      return;
    }
    this._pendingOnly = value;
    this._reply = null;
    this._changed.emit();
    void this.refresh();
  }

  get interval(): number {
    return this._interval;
  }

  set interval(value: number) {
    const interval = Math.max(1000, Math.round(value));
    if (!isFinite(interval) || interval === this._interval) {
      return;
    }
    this._interval = interval;
    this._poll.frequency = {
      ...this._poll.frequency,
      interval,
      max: Math.max(interval * 8, 60_000)
    };
  }

  /**
   * The ids of the jobs this browser saw pending and follows.
   */
  get following(): string[] {
    return [...this._seen.keys()];
  }

  setViewVisible(view: string, visible: boolean): void {
    const wasHidden = this._visible.size === 0;
    if (visible) {
      this._visible.add(view);
    } else {
      this._visible.delete(view);
    }
    if (wasHidden && visible && !this.isDisposed) {
      const age = this.ageSeconds();
      if (this._error || age === null || age * 1000 >= this._interval) {
        void this.refresh();
      }
    }
  }

  /**
   * Ask now, and wait for the answer.
   */
  async refresh(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    await refreshAndWait(this._poll);
  }

  detail(id: string): Promise<IJobDetail> {
    return this._client.getJob(id);
  }

  /**
   * Cancel a job; the list is asked again at once.
   */
  async cancel(id: string): Promise<string> {
    const reply = await this._client.cancelJob(id);
    void this.refresh();
    return reply.status;
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

  private async _fetch(): Promise<IJobsReply> {
    this._setBusy(true);
    const reply = await this._client.getJobs({
      pending: this._pendingOnly,
      limit: JOBS_LIMIT
    });
    // Followed jobs that are not in this page (filtered out, or older): ask
    // for them one by one, a few per tick.
    const listed = new Set(reply.jobs.map(j => j.id));
    const missing = [...this._seen.keys()]
      .filter(id => !listed.has(id))
      .slice(0, MAX_LOOKUPS);
    const extra = await Promise.all(
      missing.map(id =>
        this._client.getJob(id).then(
          job => job as IJob,
          reason => {
            if (toFleetError(reason).status === 404) {
              this._forget(id); // gone (e.g. another instance, or dropped)
            }
            return null;
          }
        )
      )
    );
    this._lookups = extra.filter((j): j is IJob => j !== null);
    return reply;
  }

  private _onTick(
    poll: JobsPoll,
    state: IPoll.State<IJobsReply, unknown, 'standby'>
  ): void {
    switch (state.phase) {
      case 'resolved':
      case 'reconnected':
        this._error = null;
        this._reply = state.payload as IJobsReply;
        this._receivedAt = Date.now();
        this._busy = false;
        this._follow([...this._reply.jobs, ...this._lookups]);
        break;
      case 'rejected':
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
   * Follow the pending jobs; announce the followed ones that are now final.
   */
  private _follow(jobs: IJob[]): void {
    let changed = false;
    for (const job of jobs) {
      if (PENDING_STATUSES.has(job.status)) {
        if (!this._seen.has(job.id)) {
          this._seen.set(job.id, Date.now());
          changed = true;
        }
      } else if (this._seen.has(job.id) && isFinal(job.status)) {
        this._seen.delete(job.id);
        changed = true;
        this._finished.emit(job);
      }
    }
    if (changed) {
      this._saveSeen();
    }
  }

  private _forget(id: string): void {
    if (this._seen.delete(id)) {
      this._saveSeen();
    }
  }

  private _loadSeen(): void {
    try {
      const raw = this._storage?.getItem(SEEN_KEY);
      const data = raw ? JSON.parse(raw) : {};
      const week = Date.now() - 7 * 24 * 3600 * 1000;
      for (const [id, when] of Object.entries(data)) {
        if (typeof when === 'number' && when > week) {
          this._seen.set(id, when);
        }
      }
    } catch {
      // Unreadable: start afresh.
    }
  }

  private _saveSeen(): void {
    try {
      this._storage?.setItem(SEEN_KEY, JSON.stringify(toObject(this._seen)));
    } catch {
      // Storage full or refused: following still works in this page.
    }
  }

  private _setBusy(busy: boolean): void {
    if (this._busy !== busy) {
      this._busy = busy;
      this._changed.emit();
    }
  }

  private _client: IJobsClient;
  private _storage: Storage | null;
  private _poll: JobsPoll;
  private _interval: number;
  private _pendingOnly = false;
  private _visible = new Set<string>();
  private _seen = new Map<string, number>();
  private _lookups: IJob[] = [];
  private _reply: IJobsReply | null = null;
  private _error: IFleetError | null = null;
  private _busy = false;
  private _receivedAt = 0;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _finished = new Signal<this, IJob>(this);
}

export namespace JobsModel {
  export interface IOptions {
    client: IJobsClient;
    interval?: number;
    auto?: boolean;
    /**
     * Where the followed jobs are remembered (default: localStorage).
     */
    storage?: Storage | null;
  }
}

function safeStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function toObject(map: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  map.forEach((value, key) => {
    out[key] = value;
  });
  return out;
}
