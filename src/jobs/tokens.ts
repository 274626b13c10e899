/**
 * The jobs API of the server extension, as the Jobs view sees it (the
 * answers' types are in `../wire.ts`).
 */
import { ICancelReply, IJobDetail, IJobsReply } from '../wire';

/**
 * The filters of the list.
 */
export interface IJobsQuery {
  pending: boolean;
  qpu?: string | null;
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
