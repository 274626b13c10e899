/**
 * The Jobs view's command ids and the pure helpers behind them.
 */
import { IJob } from '../wire';
import { isFinal } from './tokens';

export namespace JobCommandIDs {
  /**
   * Show the Jobs sidebar.
   */
  export const open = 'qiskit-connector-lab:open-jobs';
  /**
   * Ask the server for the jobs now.
   */
  export const refresh = 'qiskit-connector-lab:refresh-jobs';
  /**
   * Show one job's detail (`{id}`).
   */
  export const show = 'qiskit-connector-lab:show-job';
  /**
   * Cancel a job, after a confirmation (`{id}`).
   */
  export const cancel = 'qiskit-connector-lab:cancel-job';
  /**
   * Insert a cell that gets the job into the active notebook (`{id}`).
   */
  export const insertCell = 'qiskit-connector-lab:insert-job-cell';
}

/**
 * A job id as the server and `%qjob` take it.
 */
export function isJobId(id: unknown): id is string {
  return typeof id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(id);
}

/**
 * The source of a cell that puts the job into the namespace as `job`; it
 * loads the extension only when no cell of the notebook does (`loaded`).
 */
export function jobCellSource(id: string, loaded = false): string {
  if (!isJobId(id)) {
    throw new Error(`Not a job id: ${id}`);
  }
  const load = loaded ? '' : '%load_ext qiskit_connector_lab\n';
  return `${load}%qjob ${id}\njob`;
}

/**
 * The arguments of the commands that act on one job.
 */
export const JOB_ARGS_SCHEMA = {
  type: 'object' as const,
  properties: {
    id: {
      type: 'string' as const,
      description: 'The job id (as %qjobs lists it).'
    }
  },
  required: ['id']
};

/**
 * Seconds between two ISO timestamps (or until now), null when unknown.
 */
export function secondsBetween(
  start: string | null | undefined,
  end: string | null | undefined,
  now: number = Date.now()
): number | null {
  if (!start) {
    return null;
  }
  const from = Date.parse(start);
  const to = end ? Date.parse(end) : now;
  if (!isFinite(from) || !isFinite(to)) {
    return null;
  }
  return Math.max(0, (to - from) / 1000);
}

/**
 * The run time of a job (s): from its start to its end, or until now while
 * it runs; null when the start (or a final job's end) is unknown. The one
 * run time the list and the detail show.
 */
export function runSeconds(
  job: Pick<IJob, 'status' | 'started' | 'finished'>,
  now: number = Date.now()
): number | null {
  if (!job.finished && isFinal(job.status)) {
    return null;
  }
  return secondsBetween(job.started, job.finished, now);
}

/**
 * A duration: `42 s`, `3.5 min`, `2.1 h`; `—` when unknown.
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) {
    return '—';
  }
  if (seconds < 90) {
    return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  }
  if (seconds < 5400) {
    return `${(seconds / 60).toFixed(1)} min`;
  }
  return `${(seconds / 3600).toFixed(1)} h`;
}

/**
 * The CSS modifier of a status chip: queued, running, done, cancelled or
 * failed.
 */
export function statusChip(status: string): { kind: string } {
  switch (status) {
    case 'QUEUED':
      return { kind: 'queued' };
    case 'RUNNING':
      return { kind: 'running' };
    case 'DONE':
      return { kind: 'done' };
    case 'CANCELLED':
      return { kind: 'cancelled' };
    default:
      return { kind: 'failed' };
  }
}
