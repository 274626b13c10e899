/**
 * Pure text formatters used by the QPU sidebar. They know nothing of
 * JupyterLab so they can be unit tested directly.
 */

/**
 * Format a QPU queue length, e.g. `0 jobs`, `1 job`, `12 jobs`, `1,234 jobs`.
 *
 * An unknown (null, undefined, negative or non-finite) length gives `—`.
 */
export function formatQueueLength(count: number | null | undefined): string {
  if (
    count === null ||
    count === undefined ||
    !Number.isFinite(count) ||
    count < 0
  ) {
    return '?'; // IBM did not report a usable queue: unknown, never empty
  }
  const n = Math.round(count);
  const unit = n === 1 ? 'job' : 'jobs';
  return `${n.toLocaleString('en-US')} ${unit}`;
}

/**
 * Format an age given in seconds, e.g. `just now`, `3 s ago`, `5 min ago`,
 * `2 h ago`, `3 d ago`.
 *
 * Ages below one second (and small negative ages caused by clock skew) give
 * `just now`; an unknown age gives `—`.
 */
export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return '—';
  }
  const s = Math.floor(seconds);
  if (s < 1) {
    return 'just now';
  }
  if (s < 60) {
    return `${s} s ago`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ago`;
  }
  if (s < 86400) {
    return `${Math.floor(s / 3600)} h ago`;
  }
  return `${Math.floor(s / 86400)} d ago`;
}
