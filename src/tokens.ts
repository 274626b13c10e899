/**
 * Interfaces of the qiskit-connector-lab frontend: the server's REST replies
 * (`{baseUrl}qiskit-connector-lab/...`) and the fleet model the views use.
 *
 * This file holds types and tokens only, no behaviour.
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

/**
 * Where the QPUs come from: the embedded offline fleet or IBM Quantum.
 */
export type ProviderKind = 'local' | 'ibm';

/**
 * The status of a QPU.
 */
export type QPUStatus = 'online' | 'paused' | 'offline';

/**
 * Quantum-time usage of the instance (IBM only).
 */
export interface IUsage {
  consumed_seconds: number | null;
  limit_seconds: number | null;
  remaining_seconds: number | null;
  limit_reached: boolean;
}

/**
 * GET `plan`.
 */
export interface IPlanInfo {
  provider: ProviderKind;
  local: boolean;
  plan: string;
  plan_label: string;
  plan_title: string;
  verified: boolean;
  instance: string;
  crn: string | null;
  channel: string;
  modes: string[];
  default_mode: string;
  usage: IUsage | null;
  notes: string[];
  /**
   * The `.env` the server read (shown relative to home; null for none) and
   * the endpoint when it is not IBM's default.
   */
  env_file?: string | null;
  endpoint?: string | null;
  /**
   * Which configuration the server read and when it changed (when the
   * server reports it): a configuration error is retried when it changes.
   */
  config?: IConfigInfo;
}

/**
 * The configuration the server read: its `.env` file (null when none) and
 * when it last changed. A configuration error is retried when this changes.
 */
export interface IConfigInfo {
  env_file: string | null;
  endpoint: string | null;
  /**
   * ISO 8601.
   */
  changed_at: string | null;
}

/**
 * One QPU of GET `backends`.
 */
export interface IQPUSummary {
  name: string;
  status: QPUStatus;
  status_reason: string;
  qubits: number;
  queue: number | null;
  family: string | null;
  revision: string | null;
  processor: string | null;
  clops: number | null;
  version: string | null;
  least_busy: boolean;
}

/**
 * GET `backends`: the fleet, least busy first.
 */
export interface IBackendsReply {
  provider: ProviderKind;
  local: boolean;
  /**
   * When the server fetched the listing (ISO 8601).
   */
  fetched_at: string;
  /**
   * The age of the listing when the server answered.
   */
  age_seconds: number;
  stale: boolean;
  stale_reason: string;
  least_busy: string | null;
  /**
   * The server's own refresh interval, in seconds.
   */
  refresh_interval: number;
  /**
   * Remarks of the provider, e.g. that the local fleet is simulated.
   */
  notes?: string[];
  qpus: IQPUSummary[];
}

/**
 * The drawing of a chip: one coordinate per qubit (unit spacing, y grows
 * downward) and its couplers.
 */
export interface ILayout {
  kind: 'heavy-hex' | 'square' | 'graph';
  coordinates: [number, number][];
  edges: [number, number][];
}

/**
 * GET `backends/{name}`: everything the detail view shows.
 */
export interface IQPUDetail extends Omit<
  IQPUSummary,
  'status_reason' | 'least_busy'
> {
  status_reason?: string;
  basis_gates: string[];
  two_qubit_gate: string | null;
  layout: ILayout;
  qubit_errors: {
    readout: (number | null)[];
    t1_us: (number | null)[];
    t2_us: (number | null)[];
  };
  edge_errors: { edge: [number, number]; error: number | null }[];
  medians: {
    readout_error: number | null;
    two_qubit_error: number | null;
    sx_error: number | null;
    t1_us: number | null;
    t2_us: number | null;
  };
  calibrated_at: string | null;
  queue_history: { t: string; queue: number }[];
  fetched_at: string;
}

/**
 * GET/POST `pick`: the QPU picked in the sidebar for a bare `%qconnect`.
 */
export interface IPick {
  backend: string | null;
  provider: ProviderKind;
  updated_at: string | null;
}

/**
 * The REST API of the server extension.
 */
export interface IQPUClient {
  getPlan(): Promise<IPlanInfo>;
  getBackends(): Promise<IBackendsReply>;
  getBackend(name: string): Promise<IQPUDetail>;
  getPick(): Promise<IPick>;
  setPick(backend: string | null): Promise<IPick>;
}

/**
 * An error reported by the server (`{message, code}`) or by the network.
 */
export interface IFleetError {
  message: string;
  /**
   * The server's error code, `network` when the server could not be reached.
   */
  code: string;
  /**
   * The HTTP status, 0 for a network error.
   */
  status: number;
  /**
   * What to do about it, when the server says.
   */
  hint?: string;
  /**
   * The configuration the server read, when the error reply names it.
   */
  config?: IConfigInfo;
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
 * What the fleet panel is showing.
 *
 * - `loading`: nothing received yet, the first request is in flight.
 * - `ready`: a listing is shown.
 * - `error`: the last request failed and there is no listing to show.
 */
export type FleetPhase = 'loading' | 'ready' | 'error';

/**
 * The fleet model: one shared poll of the server for every view.
 */
export interface IQPUFleetModel {
  /**
   * Emitted whenever anything shown changes (listing, error, age, plan).
   */
  readonly changed: ISignal<IQPUFleetModel, void>;
  /**
   * Emitted when the pick changes.
   */
  readonly pickChanged: ISignal<IQPUFleetModel, IPick | null>;
  readonly phase: FleetPhase;
  /**
   * Whether a request is in flight.
   */
  readonly busy: boolean;
  readonly plan: IPlanInfo | null;
  readonly backends: IBackendsReply | null;
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
  readonly error: IFleetError | null;
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
   * Whether the views showing the fleet are hidden (the poll stands by).
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
  setPick(backend: string | null): Promise<IPick>;
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
 * The fleet model, for other extensions.
 */
export const IQPUFleetModel = new Token<IQPUFleetModel>(
  'qiskit-connector-lab:IQPUFleetModel',
  'The IBM Quantum QPU fleet shown in the qiskit-connector-lab sidebar.'
);
