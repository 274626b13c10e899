/**
 * The jobs API of the server extension, as the Jobs view sees it.
 */

/**
 * A job status: IBM's strings (what `job.status()` returns).
 */
export type JobStatus = 'QUEUED' | 'RUNNING' | 'DONE' | 'CANCELLED' | 'ERROR';

/**
 * One job (`JobRecord.as_dict()` on the server).
 */
export interface IJob {
  id: string;
  backend: string;
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
  provider: 'ibm' | 'local' | string;
}

/**
 * `GET jobs`.
 */
export interface IJobsReply {
  provider: string;
  local: boolean;
  total: number;
  jobs: IJob[];
  fetched_at: string;
  age_seconds: number;
  stale: boolean;
  stale_reason: string;
  refresh_interval: number;
}

/**
 * `GET jobs/{id}`.
 */
export interface IJobDetail extends IJob {
  usage_seconds: number | null;
  local: boolean;
}

/**
 * `POST jobs/{id}/cancel`.
 */
export interface ICancelReply {
  id: string;
  status: JobStatus;
}

/**
 * The filters of the list.
 */
export interface IJobsQuery {
  pending: boolean;
  backend?: string | null;
  limit?: number;
  offset?: number;
}

/**
 * The server calls the Jobs view needs.
 */
export interface IJobsClient {
  getJobs(query: IJobsQuery): Promise<IJobsReply>;
  getJob(id: string): Promise<IJobDetail>;
  cancelJob(id: string): Promise<ICancelReply>;
}

/**
 * The statuses of a job that is not over yet.
 */
export const PENDING_STATUSES: ReadonlySet<string> = new Set([
  'QUEUED',
  'RUNNING'
]);

/**
 * Whether a job has reached a final status.
 */
export function isFinal(status: string): boolean {
  return !PENDING_STATUSES.has(status);
}
