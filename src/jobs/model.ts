import { ISignal, Signal } from '@lumino/signaling';

import { clampInterval, IFreshness, PollingModel } from '../polling';
import { toRequestError } from '../request';
import { IJob, IJobDetail, IJobsReply } from '../wire';
import { IJobsClient, isFinal, PENDING_STATUSES } from './tokens';

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

/**
 * How often the jobs are asked for while a job this browser follows is
 * queued or running (ms), unless the interval is shorter.
 */
export const DEFAULT_PENDING_INTERVAL = 1_000;

/**
 * How many job details are kept (their run time fills the list's gaps).
 */
const MAX_DETAILS = 100;

/**
 * The jobs: one `PollingModel` (a `@lumino/polling` `Poll`) of the server's
 * `GET jobs`.
 *
 * It stands by while no view shows the jobs, unless a job this browser saw
 * queued or running is still being followed: then it keeps asking (the
 * browser tab must be visible, Poll's own rule), at the faster pending
 * interval, so that `finished` fires once, soon after the job is done,
 * failed or cancelled.
 */
export class JobsModel extends PollingModel<IJobsReply> {
  constructor(options: JobsModel.IOptions) {
    super({
      name: 'qiskit-connector-lab:jobs',
      defaultInterval: DEFAULT_JOBS_INTERVAL,
      interval: options.interval ?? DEFAULT_JOBS_INTERVAL,
      auto: options.auto
    });
    this._client = options.client;
    this._storage =
      options.storage === undefined ? safeStorage() : options.storage;
    this._pendingInterval = clampInterval(
      options.pendingInterval,
      DEFAULT_PENDING_INTERVAL
    );
    this._loadSeen();
  }

  /**
   * Emitted once for each job this browser saw pending that is now final.
   */
  get finished(): ISignal<this, IJob> {
    return this._finished;
  }

  get reply(): IJobsReply | null {
    return this._reply;
  }

  /**
   * The jobs of the list; a job whose start the list does not know (IBM's
   * list has no timestamps of the run) takes it from its detail, when that
   * was fetched: one run time in the list and the detail.
   */
  get jobs(): IJob[] {
    return (this._reply?.jobs ?? []).map(job => {
      const known = this._details.get(job.id);
      return known && !job.started && known.started
        ? {
            ...job,
            started: known.started,
            finished: job.finished ?? known.finished
          }
        : job;
    });
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
    this.clear();
    this.emitChanged();
    void this.refresh();
  }

  /**
   * The wait between two polls while a followed job is pending (ms).
   */
  get pendingInterval(): number {
    return this._pendingInterval;
  }

  set pendingInterval(value: number) {
    const interval = clampInterval(value, DEFAULT_PENDING_INTERVAL);
    if (interval !== this._pendingInterval) {
      this._pendingInterval = interval;
      this.repace();
    }
  }

  /**
   * The ids of the jobs this browser saw pending and follows.
   */
  get following(): string[] {
    return [...this._seen.keys()];
  }

  /**
   * One job in detail (kept, so that the list shows the same run time).
   */
  async detail(id: string): Promise<IJobDetail> {
    const job = await this._client.getJob(id);
    this._details.delete(id);
    this._details.set(id, job);
    if (this._details.size > MAX_DETAILS) {
      this._details.delete(this._details.keys().next().value as string);
    }
    this.emitChanged();
    return job;
  }

  /**
   * Cancel a job; the list is asked again at once. A job cancelled here is
   * no longer followed: whoever cancelled it has said so (one notice).
   */
  async cancel(id: string): Promise<string> {
    const reply = await this._client.cancelJob(id);
    if (reply.status === 'CANCELLED') {
      // Even if a list answered before the cancel still shows it pending.
      this._cancelledHere.add(id);
      this._forget(id);
      this.repace();
    }
    void this.refresh();
    return reply.status;
  }

  /**
   * Polled while a view shows the jobs or a followed job is pending.
   */
  protected get wanted(): boolean {
    return !this.hidden || this._seen.size > 0;
  }

  /**
   * Faster while a followed job is pending.
   */
  protected get pace(): number {
    return this._seen.size > 0
      ? Math.min(this.interval, this._pendingInterval)
      : this.interval;
  }

  protected async fetch(): Promise<IJobsReply> {
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
            if (toRequestError(reason).status === 404) {
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

  protected apply(reply: IJobsReply): IFreshness {
    this._reply = reply;
    this._follow([...reply.jobs, ...this._lookups]);
    return reply;
  }

  /**
   * Follow the pending jobs; announce the followed ones that are now final.
   */
  private _follow(jobs: IJob[]): void {
    let changed = false;
    for (const job of jobs) {
      if (this._cancelledHere.has(job.id)) {
        if (isFinal(job.status)) {
          this._cancelledHere.delete(job.id);
        }
        continue;
      }
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

  private _client: IJobsClient;
  private _storage: Storage | null;
  private _pendingInterval: number;
  private _pendingOnly = false;
  private _seen = new Map<string, number>();
  private _lookups: IJob[] = [];
  private _details = new Map<string, IJobDetail>();
  /**
   * Jobs cancelled from this page: the cancel said so, nothing more is.
   */
  private _cancelledHere = new Set<string>();
  private _reply: IJobsReply | null = null;
  private _finished = new Signal<this, IJob>(this);
}

export namespace JobsModel {
  export interface IOptions {
    client: IJobsClient;
    /**
     * The polling interval in milliseconds (default 15 s).
     */
    interval?: number;
    /**
     * The interval while a followed job is pending (default 1 s).
     */
    pendingInterval?: number;
    /**
     * Whether to start polling at once (default true).
     */
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
