/**
 * Interfaces of the qiskit-connector-lab frontend: the REST client and the
 * QPU model the views use, and its token (the answers' types are in
 * `wire.ts`).
 *
 * This file holds types and tokens only, no behaviour.
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

import type { PollPhase } from './polling';
import {
  IPick,
  IPlanInfo,
  IQPUDetail,
  IQPUListReply,
  IQPUSummary,
  IRequestError
} from './wire';

/**
 * The REST API of the server extension.
 */
export interface IQPUClient {
  getPlan(): Promise<IPlanInfo>;
  getQPUs(): Promise<IQPUListReply>;
  getQPU(name: string): Promise<IQPUDetail>;
  getPick(): Promise<IPick>;
  setPick(qpu: string | null): Promise<IPick>;
}

/**
 * The errors a user fixes in the configuration (`.env`): retrying them on a
 * timer cannot help, so they are retried when the configuration changes.
 */
export const CONFIG_ERROR_CODES: ReadonlySet<string> = new Set([
  'config_error',
  'plan_mismatch',
  'unauthorized'
]);

/**
 * The QPU model: one shared poll of the server for every view.
 */
export interface IQPUListModel {
  /**
   * Emitted whenever anything shown changes (listing, error, age, plan).
   */
  readonly changed: ISignal<IQPUListModel, void>;
  /**
   * Emitted when the pick changes.
   */
  readonly pickChanged: ISignal<IQPUListModel, IPick | null>;
  readonly phase: PollPhase;
  /**
   * Whether a request is in flight.
   */
  readonly busy: boolean;
  readonly plan: IPlanInfo | null;
  readonly listing: IQPUListReply | null;
  /**
   * The QPUs in the server's order (least busy first): the one ranking.
   */
  readonly qpus: IQPUSummary[];
  /**
   * The pick of this provider (a pick made on another provider is not shown).
   */
  readonly pick: IPick | null;
  /**
   * The last error, or null after a success.
   */
  readonly error: IRequestError | null;
  /**
   * Whether the data shown is stale: the server said so, or the last
   * request failed and older data is shown.
   */
  readonly stale: boolean;
  /**
   * Why the data is stale ('' when it is not).
   */
  readonly staleReason: string;
  /**
   * The age of the data shown, in seconds (null before the first listing).
   */
  ageSeconds(now?: number): number | null;
  /**
   * When the next request is due (ms since the epoch), null if none is
   * scheduled.
   */
  readonly nextAttempt: number | null;
  /**
   * Whether the last error is one of the configuration, retried when the
   * server's configuration changes rather than on a timer.
   */
  readonly waitsForConfig: boolean;
  /**
   * The polling interval, in milliseconds.
   */
  interval: number;
  /**
   * Whether the views showing the QPUs are hidden (the poll stands by).
   */
  hidden: boolean;
  /**
   * Ask the server now, and return when the answer has been applied.
   */
  refresh(): Promise<void>;
  /**
   * Tell the model whether one of its views is visible (the poll stands by
   * while none is).
   */
  setViewVisible(view: string, visible: boolean): void;
  /**
   * Store the QPU used by a bare `%qconnect` (null clears it).
   */
  setPick(qpu: string | null): Promise<IPick>;
  /**
   * The detail of one QPU.
   */
  detail(name: string): Promise<IQPUDetail>;
  /**
   * The QPUs, fetched once if there are none yet.
   */
  ensureQpus(): Promise<IQPUSummary[]>;
  readonly isDisposed: boolean;
  dispose(): void;
}

/**
 * The QPU model, for other extensions.
 */
export const IQPUListModel = new Token<IQPUListModel>(
  'qiskit-connector-lab:IQPUListModel',
  'The IBM Quantum QPUs shown in the qiskit-connector-lab sidebar.'
);
