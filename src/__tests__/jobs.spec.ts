import { TranslationBundle } from '@jupyterlab/translation';

import { jobCellSource, secondsBetween } from '../jobs/commands';
import { JobsModel, SEEN_KEY } from '../jobs/model';
import {
  IJob,
  IJobDetail,
  IJobsClient,
  IJobsQuery,
  IJobsReply
} from '../jobs/tokens';
import { JobsView } from '../jobs/views';

const trans = {
  __: (text: string, ...args: unknown[]) =>
    text.replace(/%(\d)/g, (_, i) => String(args[Number(i) - 1])),
  _n: (one: string) => one
} as unknown as TranslationBundle;

function job(id: string, status: string, extra: Partial<IJob> = {}): IJob {
  return {
    id,
    backend: 'fake_fez',
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
class FakeJobs implements IJobsClient {
  jobs: IJob[] = [];
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

  async cancelJob(id: string) {
    const found = this.jobs.find(j => j.id === id)!;
    found.status = 'CANCELLED';
    return { id, status: 'CANCELLED' as const };
  }
}

class MemoryStorage {
  data = new Map<string, string>();
  getItem(key: string) {
    return this.data.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.data.set(key, value);
  }
}

describe('JobsModel', () => {
  let server: FakeJobs;
  let storage: MemoryStorage;
  let model: JobsModel;
  let finished: IJob[];

  function create(): JobsModel {
    model = new JobsModel({
      client: server,
      auto: false,
      interval: 60_000,
      storage: storage as unknown as Storage
    });
    model.finished.connect((_, j) => finished.push(j));
    model.setViewVisible('test', true);
    return model;
  }

  beforeEach(() => {
    server = new FakeJobs();
    storage = new MemoryStorage();
    finished = [];
  });

  afterEach(() => model?.dispose());

  it('notifies once when a job it saw pending is done, never for jobs first seen final', async () => {
    server.jobs = [job('old', 'DONE'), job('new', 'QUEUED')];
    create();
    await model.refresh();
    expect(model.phase).toBe('ready');
    expect(model.following).toEqual(['new']);
    server.jobs[1].status = 'RUNNING';
    await model.refresh();
    expect(finished).toEqual([]);
    server.jobs[1].status = 'DONE';
    await model.refresh();
    expect(finished.map(j => [j.id, j.status])).toEqual([['new', 'DONE']]);
    await model.refresh();
    expect(finished.length).toBe(1);
    expect(model.following).toEqual([]);
  });

  it('follows a job that left the pending list by asking for it alone', async () => {
    server.jobs = [job('a', 'QUEUED')];
    create();
    model.pendingOnly = true;
    await model.refresh();
    server.jobs[0].status = 'ERROR';
    server.jobs[0].error = 'boom';
    await model.refresh();
    expect(server.lookups).toEqual(['a']);
    expect(finished.map(j => [j.id, j.status, j.error])).toEqual([
      ['a', 'ERROR', 'boom']
    ]);
    expect(server.queries.every(q => q.pending)).toBe(true);
  });

  it('remembers the followed jobs across a reload of the page', async () => {
    server.jobs = [job('a', 'QUEUED')];
    create();
    await model.refresh();
    expect(JSON.parse(storage.getItem(SEEN_KEY)!)).toHaveProperty('a');
    model.dispose();
    server.jobs[0].status = 'DONE';
    create(); // a new page, same browser storage
    await model.refresh();
    expect(finished.map(j => j.id)).toEqual(['a']);
  });

  it('keeps the last jobs, marked stale, when the server fails', async () => {
    server.jobs = [job('a', 'DONE')];
    create();
    await model.refresh();
    server.fail = new Error('down');
    await model.refresh();
    expect(model.phase).toBe('ready');
    expect(model.stale).toBe(true);
    expect(model.staleReason).toBe('down');
    expect(model.jobs.map(j => j.id)).toEqual(['a']);
  });
});

describe('JobsView', () => {
  it('shows loading, error, empty, then rows with chip, queue and tags', async () => {
    const server = new FakeJobs();
    const model = new JobsModel({ client: server, auto: false, storage: null });
    model.setViewVisible('test', true);
    const view = new JobsView({
      model,
      trans,
      onOpen: () => undefined,
      queueOf: name => (name === 'fake_fez' ? 7 : null)
    });
    const banner = () =>
      view.node.querySelector(
        '.jp-QiskitConnectorLab-jobsBanner'
      ) as HTMLElement;
    view.render();
    expect(banner().dataset.kind).toBe('loading');
    server.fail = new Error('The server is down.');
    await model.refresh();
    view.render();
    expect(banner().dataset.kind).toBe('error');
    expect(banner().textContent).toContain('The server is down.');
    server.fail = null;
    await model.refresh();
    view.render();
    expect(banner().dataset.kind).toBe('empty');
    server.jobs = [
      job('q1', 'QUEUED', { tags: ['lab'] }),
      job('d1', 'DONE', {
        started: '2026-11-30T20:00:01+00:00',
        finished: '2026-11-30T20:00:04+00:00'
      })
    ];
    await model.refresh();
    view.render();
    expect(banner().hidden).toBe(true);
    const rows = view.node.querySelectorAll('button[data-job]');
    expect(Array.from(rows).map(r => r.getAttribute('data-status'))).toEqual([
      'queued',
      'done'
    ]);
    expect(rows[0].textContent).toContain('queue 7 jobs');
    expect(rows[0].textContent).toContain('lab');
    expect(rows[1].textContent).not.toContain('queue');
    expect(rows[1].textContent).toContain('ran 3.0 s');
    model.dispose();
  });
});

describe('job helpers', () => {
  it('builds the job cell and refuses anything but an id', () => {
    expect(jobCellSource('d123')).toBe(
      '%load_ext qiskit_connector_lab\n%qjob d123\njob'
    );
    // A notebook that loads the extension already gets no second %load_ext.
    expect(jobCellSource('d123', true)).toBe('%qjob d123\njob');
    expect(() => jobCellSource('x; import os')).toThrow();
    expect(secondsBetween('2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z')).toBe(
      60
    );
    expect(secondsBetween(null, null)).toBeNull();
  });
});
