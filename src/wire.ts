/**
 * The server's answers, as TypeScript types: every JSON answer of the routes
 * under `{baseUrl}qiskit-connector-lab/`. They follow the one description of
 * the wire, `qiskit_connector_lab/server/wire.schema.json` (its `$defs` are
 * named next to each type); the tests check the fake server's answers
 * against that schema, and the server's tests check the real ones.
 *
 * One word per meaning: a QPU is `qpu`, a list of them `qpus`; "local fleet"
 * is only the local provider.
 *
 * Types only, no behaviour.
 */

/**
 * Where the QPUs come from: the embedded local fleet or IBM Quantum.
 */
export type ProviderKind = 'local' | 'ibm';

/**
 * The status of a QPU.
 */
export type QPUStatus = 'online' | 'paused' | 'offline';

/**
 * The configuration the server read: its `.env` file (null when none), the
 * endpoint when it is not IBM's default, and when it last changed (ISO 8601).
 * A configuration error is retried when this changes. (`config`)
 */
export interface IConfigInfo {
  env_file: string | null;
  endpoint: string | null;
  changed_at: string | null;
}

/**
 * Quantum-time usage of the instance (IBM only). (`usage`)
 */
export interface IUsage {
  consumed_seconds: number | null;
  limit_seconds: number | null;
  remaining_seconds: number | null;
  limit_reached: boolean;
}

/**
 * `GET plan`. (`plan`)
 */
export interface IPlanInfo {
  provider: ProviderKind;
  local: boolean;
  plan: string;
  plan_label: string;
  plan_display_name: string;
  verified: boolean;
  instance: string | null;
  crn: string | null;
  pricing_type: string | null;
  channel: string;
  modes: string[];
  default_mode: string;
  usage: IUsage | null;
  /**
   * The `.env` the server read (shown relative to home; null for none) and
   * the endpoint when it is not IBM's default.
   */
  env_file: string | null;
  endpoint: string | null;
  config: IConfigInfo;
  notes: string[];
  stale: boolean;
  stale_reason: string;
}

/**
 * One QPU of `GET backends`. (`qpu`)
 */
export interface IQPUSummary {
  name: string;
  status: QPUStatus;
  status_reason: string;
  qubits: number;
  queue: number | null;
  family: string | null;
  revision: string | null;
  processor: string;
  clops: number | null;
  version: string | null;
  simulator: boolean;
  least_busy: boolean;
}

/**
 * `GET backends`: every QPU, least busy first. (`backends`)
 */
export interface IQPUListReply {
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
  notes: string[];
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
 * `GET backends/{name}`: everything the detail view shows. (`qpu_detail`)
 */
export interface IQPUDetail extends Omit<
  IQPUSummary,
  'least_busy' | 'simulator'
> {
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
  queue_history: { t: string; queue: number | null }[];
  fetched_at: string;
  listing_fetched_at: string;
  stale: boolean;
  stale_reason: string;
}

/**
 * `GET pick` and `POST pick` (body `{"qpu": name | null}`): the QPU picked in
 * the sidebar for a bare `%qconnect`. (`pick`)
 */
export interface IPick {
  qpu: string | null;
  provider: ProviderKind;
  updated_at: string | null;
}

/**
 * A job status: IBM's strings (what `job.status()` returns).
 */
export type JobStatus = 'QUEUED' | 'RUNNING' | 'DONE' | 'CANCELLED' | 'ERROR';

/**
 * One job of the jobs page. (`job`, `jobs_page_job`)
 */
export interface IJob {
  id: string;
  qpu: string;
  primitive: string;
  status: JobStatus;
  created: string | null;
  started: string | null;
  finished: string | null;
  shots: number | null;
  pubs: number;
  tags: string[];
  session_id: string | null;
  error: string | null;
  provider: ProviderKind;
}

/**
 * `GET jobs` (`?pending`, `?qpu`, `?limit`, `?offset`): recent jobs, newest
 * first. (`jobs_page`)
 */
export interface IJobsReply {
  provider: ProviderKind;
  local: boolean;
  total: number;
  jobs: IJob[];
  notes: string[];
  fetched_at: string;
  age_seconds: number;
  stale: boolean;
  stale_reason: string;
  refresh_interval: number;
}

/**
 * `GET jobs/{id}`: one job, with the quantum seconds IBM charged (null on the
 * local fleet). (`job_detail`)
 */
export interface IJobDetail extends IJob {
  usage_seconds: number | null;
  local: boolean;
}

/**
 * `POST jobs/{id}/cancel`. (`job_cancel`)
 */
export interface ICancelReply {
  id: string;
  status: JobStatus;
}

/**
 * Every error answer: one sentence, a code, maybe what to do; the
 * configuration when only a new `.env` ends it. (`error`)
 */
export interface IErrorReply {
  message: string;
  code: string;
  hint?: string;
  config?: IConfigInfo;
}

/**
 * A failed request as the views show it: the server's error answer, or a
 * network failure or timeout (`code` `network` or `timeout`, `status` 0).
 */
export interface IRequestError extends IErrorReply {
  /**
   * The HTTP status, 0 when the server gave no answer.
   */
  status: number;
}
