/**
 * A fake server extension for the unit tests: a `fetch` that answers the
 * qiskit-connector-lab routes from in-memory state, counts requests, and can
 * be told to fail.
 */
import { ServerConnection } from '@jupyterlab/services';

import { IJobsClient, IJobsQuery } from '../jobs/tokens';
import {
  ICancelReply,
  IJob,
  IJobDetail,
  IJobsReply,
  IPick,
  IPlanInfo,
  IQPUDetail,
  IQPUListReply,
  IQPUSummary
} from '../wire';

export const BASE_URL = 'http://localhost:8888/';

export function qpu(
  name: string,
  queue: number | null,
  extra: Partial<IQPUSummary> = {}
): IQPUSummary {
  return {
    name,
    status: 'online',
    status_reason: '',
    qubits: 127,
    queue,
    family: 'Eagle',
    revision: '3',
    processor: 'Eagle r3',
    clops: 5000,
    version: '1.0.0',
    simulator: false,
    least_busy: false,
    ...extra
  };
}

export function localPlan(): IPlanInfo {
  return {
    provider: 'local',
    local: true,
    plan: 'open',
    plan_label: 'Open Plan',
    plan_display_name: 'Open Plan (local fleet)',
    verified: false,
    instance: 'local fleet',
    crn: null,
    pricing_type: null,
    channel: 'local',
    modes: ['job', 'batch'],
    default_mode: 'batch',
    usage: null,
    env_file: null,
    endpoint: null,
    config: { env_file: null, endpoint: null, changed_at: null },
    notes: [],
    stale: false,
    stale_reason: ''
  };
}

export interface IFakeReply {
  status: number;
  body: unknown;
}

type Route = (method: string, body: string | null) => IFakeReply;

/**
 * The fake server. Replace `routes[...]` or set `fail` to change answers.
 */
export class FakeServer {
  constructor() {
    this.routes = {
      plan: () => ({ status: 200, body: localPlan() }),
      backends: () => ({ status: 200, body: this.listingReply() }),
      pick: (method, body) => {
        if (method === 'POST') {
          const { qpu } = JSON.parse(body ?? '{}');
          if (qpu !== null && !this.qpus.some(q => q.name === qpu)) {
            return {
              status: 404,
              body: {
                message: `QPU '${qpu}' is not listed.`,
                code: 'unknown_backend'
              }
            };
          }
          this.pick = {
            qpu,
            provider: 'local',
            updated_at: qpu ? '2025-01-01T00:00:00+00:00' : null
          };
        }
        return { status: 200, body: this.pick };
      }
    };
  }

  // Ranked as the server ranks them (least busy online first).
  qpus: IQPUSummary[] = [
    qpu('fake_a', 3, {
      least_busy: true,
      qubits: 156,
      family: 'Heron',
      revision: '2',
      processor: 'Heron r2'
    }),
    qpu('fake_b', 30),
    qpu('fake_c', 12, { status: 'paused', status_reason: 'calibration' })
  ];
  stale = false;
  staleReason = '';
  ageSeconds = 0;
  pick: IPick = {
    qpu: null,
    provider: 'local',
    updated_at: null
  };
  details: Record<string, IQPUDetail> = {};
  /**
   * When set, every request fails with it (`network` for a network error).
   */
  fail: IFakeReply | 'network' | null = null;
  /**
   * When true, requests never answer (until aborted).
   */
  hang = false;
  routes: Record<string, Route>;
  requests: { method: string; path: string; body: string | null }[] = [];

  listingReply(): IQPUListReply {
    return {
      provider: 'local',
      local: true,
      fetched_at: new Date().toISOString(),
      age_seconds: this.ageSeconds,
      stale: this.stale,
      stale_reason: this.staleReason,
      least_busy: this.qpus.find(q => q.least_busy)?.name ?? null,
      refresh_interval: 15,
      notes: [],
      qpus: this.qpus
    };
  }

  count(path: string, method = 'GET'): number {
    return this.requests.filter(r => r.path === path && r.method === method)
      .length;
  }

  fetch = async (input: RequestInfo): Promise<Response> => {
    const request = input as Request;
    const url = new URL(request.url);
    const path = url.pathname.replace(/^\/qiskit-connector-lab\//, '');
    const body = request.method === 'POST' ? await request.text() : null;
    this.requests.push({ method: request.method, path, body });
    if (this.hang) {
      return new Promise<Response>((_, reject) => {
        request.signal.addEventListener('abort', () =>
          reject(new DOMException('The operation was aborted.', 'AbortError'))
        );
      });
    }
    if (this.fail === 'network') {
      throw new TypeError('Failed to fetch');
    }
    let reply: IFakeReply;
    if (this.fail) {
      reply = this.fail;
    } else if (this.routes[path]) {
      reply = this.routes[path](request.method, body);
    } else if (path.startsWith('backends/')) {
      const name = decodeURIComponent(path.slice('backends/'.length));
      reply = this.details[name]
        ? { status: 200, body: this.details[name] }
        : {
            status: 404,
            body: { message: `No QPU ${name}.`, code: 'unknown_backend' }
          };
    } else {
      reply = { status: 404, body: { message: 'Not found', code: 'http_404' } };
    }
    const text = JSON.stringify(reply.body);
    // A minimal Response: real ones resolve their body through streams,
    // which fake timers get in the way of.
    return {
      ok: reply.status >= 200 && reply.status < 300,
      status: reply.status,
      statusText: reply.status === 200 ? 'OK' : 'Error',
      headers: new Headers({ 'Content-Type': 'application/json' }),
      text: async () => text,
      json: async () => JSON.parse(text)
    } as unknown as Response;
  };

  settings(): ServerConnection.ISettings {
    return ServerConnection.makeSettings({
      baseUrl: BASE_URL,
      wsUrl: 'ws://localhost:8888/',
      fetch: this.fetch as any
    });
  }
}

/**
 * One job as the jobs page lists it.
 */
export function job(
  id: string,
  status: string,
  extra: Partial<IJob> = {}
): IJob {
  return {
    id,
    qpu: 'fake_fez',
    primitive: 'sampler',
    status: status as IJob['status'],
    created: '2026-11-30T20:00:00+00:00',
    started: null,
    finished: null,
    shots: 100,
    pubs: 1,
    tags: [],
    session_id: null,
    error: null,
    provider: 'local',
    ...extra
  };
}

/**
 * A server whose jobs the test changes between polls.
 */
export class FakeJobs implements IJobsClient {
  jobs: IJob[] = [];
  notes: string[] = [];
  fail: Error | null = null;
  queries: IJobsQuery[] = [];
  lookups: string[] = [];

  async getJobs(query: IJobsQuery): Promise<IJobsReply> {
    this.queries.push(query);
    if (this.fail) {
      throw this.fail;
    }
    const shown = query.pending
      ? this.jobs.filter(j => j.status === 'QUEUED' || j.status === 'RUNNING')
      : this.jobs;
    return {
      provider: 'local',
      local: true,
      total: shown.length,
      jobs: shown,
      fetched_at: new Date().toISOString(),
      age_seconds: 0,
      stale: false,
      stale_reason: '',
      notes: this.notes,
      refresh_interval: 2
    };
  }

  async getJob(id: string): Promise<IJobDetail> {
    this.lookups.push(id);
    const found = this.jobs.find(j => j.id === id);
    if (!found) {
      throw new Error('not found');
    }
    return { ...found, usage_seconds: null, local: true };
  }

  async cancelJob(id: string): Promise<ICancelReply> {
    const found = this.jobs.find(j => j.id === id)!;
    found.status = 'CANCELLED';
    return { id, status: 'CANCELLED' as const };
  }
}
