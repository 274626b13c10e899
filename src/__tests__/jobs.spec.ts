import { TranslationBundle } from '@jupyterlab/translation';

import { jobCellSource, runSeconds, secondsBetween } from '../jobs/commands';
import { JobsModel, SEEN_KEY } from '../jobs/model';
import { JobsView } from '../jobs/views';
import { IJob } from '../wire';
import { FakeJobs, job } from './fakeserver';

const trans = {
  __: (text: string, ...args: unknown[]) =>
    text.replace(/%(\d)/g, (_, i) => String(args[Number(i) - 1])),
  _n: (one: string) => one
} as unknown as TranslationBundle;

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

describe('JobsModel polling', () => {
  const INTERVAL = 10_000;
  let server: FakeJobs;
  let model: JobsModel;
  let finished: IJob[];

  async function advance(ms: number): Promise<void> {
    await jest.advanceTimersByTimeAsync(ms);
  }

  async function refresh(): Promise<void> {
    const done = model.refresh();
    await advance(0);
    await done;
  }

  function create(options: Partial<JobsModel.IOptions> = {}): JobsModel {
    model = new JobsModel({
      client: server,
      auto: false,
      interval: INTERVAL,
      storage: null,
      ...options
    });
    model.finished.connect((_, j) => finished.push(j));
    model.setViewVisible('test', true);
    return model;
  }

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
    server = new FakeJobs();
    finished = [];
  });

  afterEach(() => {
    model?.dispose();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  it('after a failed refresh, retries no sooner than one interval', async () => {
    // Poll's backoff is drawn between the interval and the last wait, which
    // is 0 after a refresh: with this draw it would retry after 1 ms.
    jest.spyOn(Math, 'random').mockReturnValue(0.999999);
    server.jobs = [job('a', 'DONE')];
    create();
    await refresh();
    server.fail = new Error('down');
    await refresh();
    expect(model.stale).toBe(true);
    const asked = server.queries.length;
    await advance(INTERVAL - 1);
    expect(server.queries.length).toBe(asked);
    await advance(1);
    expect(server.queries.length).toBe(asked + 1);
    // Then it backs off: each wait at least the one before.
    const first = (model.nextAttempt as number) - Date.now();
    expect(first).toBeGreaterThanOrEqual(INTERVAL);
    await advance(first);
    expect(server.queries.length).toBe(asked + 2);
  });

  it('polls every pending interval while a job is pending; a finished job shows within 2 s, notified once', async () => {
    server.jobs = [job('a', 'QUEUED'), job('old', 'DONE')];
    create({ pendingInterval: 1_000 });
    await refresh();
    expect(model.following).toEqual(['a']);
    let asked = server.queries.length;
    await advance(1_000);
    expect(server.queries.length).toBe(asked + 1);
    server.jobs[0].status = 'RUNNING';
    await advance(1_000);
    server.jobs[0].status = 'DONE';
    await advance(1_000);
    expect(finished.map(j => [j.id, j.status])).toEqual([['a', 'DONE']]);
    expect(model.jobs[0].status).toBe('DONE');
    // Nothing pending: back to the interval, and no second notification.
    asked = server.queries.length;
    await advance(INTERVAL - 1_000);
    expect(server.queries.length).toBe(asked);
    await advance(1_000);
    expect(server.queries.length).toBe(asked + 1);
    expect(finished.length).toBe(1);
  });

  it('follows the pending interval setting', async () => {
    server.jobs = [job('a', 'RUNNING')];
    create({ pendingInterval: 1_000 });
    await refresh();
    model.pendingInterval = 3_000;
    const asked = server.queries.length;
    await advance(2_999);
    expect(server.queries.length).toBe(asked);
    await advance(1);
    expect(server.queries.length).toBe(asked + 1);
  });

  it('notifies nothing for a job this browser cancelled: the cancel said it', async () => {
    server.jobs = [job('a', 'QUEUED')];
    create();
    await refresh();
    // A list answered before the cancel took effect still says QUEUED.
    const listing = server.getJobs.bind(server);
    let late = true;
    server.getJobs = async query => {
      const reply = await listing(query);
      return late
        ? { ...reply, jobs: reply.jobs.map(j => ({ ...j, status: 'QUEUED' })) }
        : reply;
    };
    expect(await model.cancel('a')).toBe('CANCELLED');
    await refresh();
    expect(model.jobs[0].status).toBe('QUEUED');
    late = false;
    await refresh();
    expect(model.jobs[0].status).toBe('CANCELLED');
    expect(model.following).toEqual([]);
    expect(finished).toEqual([]);
  });

  it('still follows a job whose cancel is under way, and notifies it once when it stops', async () => {
    server.jobs = [job('r1', 'RUNNING', { provider: 'ibm' })];
    server.cancelJob = async (id: string) => ({ id, status: 'RUNNING' });
    create({ pendingInterval: 1_000 });
    await refresh();
    expect(await model.cancel('r1')).toBe('RUNNING');
    await advance(0);
    expect(model.following).toEqual(['r1']);
    server.jobs[0].status = 'CANCELLED';
    await advance(1_000);
    await advance(1_000);
    expect(finished.map(j => [j.id, j.status])).toEqual([['r1', 'CANCELLED']]);
  });

  it('shows the run time the detail knows when the list of IBM has no start', async () => {
    // IBM's job list has no timestamps of the run; the detail has them.
    server.jobs = [job('i1', 'DONE', { provider: 'ibm' })];
    const started = '2026-11-30T20:00:01+00:00';
    const ended = '2026-11-30T20:00:05.400000+00:00';
    server.getJob = async (id: string) => ({
      ...job(id, 'DONE', { provider: 'ibm', started, finished: ended }),
      usage_seconds: 2,
      local: false
    });
    create();
    await refresh();
    expect(runSeconds(model.jobs[0])).toBeNull();
    const detail = await model.detail('i1');
    expect(runSeconds(detail)).toBeCloseTo(4.4);
    expect(runSeconds(model.jobs[0])).toBeCloseTo(4.4);
    await refresh();
    expect(runSeconds(model.jobs[0])).toBeCloseTo(4.4);
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
    const longId = 'd07923986b3c4e5f8a9b0c1d2e3f4a5b';
    server.jobs = [
      job(longId, 'QUEUED', { tags: ['lab'], provider: 'ibm' }),
      job('local-31af', 'QUEUED'),
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
      'queued',
      'done'
    ]);
    // A queued IBM job shows its QPU's queue; a local one never waits in it.
    expect(rows[0].textContent).toContain('queue 7 jobs');
    expect(rows[0].textContent).toContain('lab');
    const queueOfRow = (i: number) =>
      rows[i].querySelector('.jp-QiskitConnectorLab-jobQueue');
    expect(queueOfRow(0)).not.toBeNull();
    expect(queueOfRow(1)).toBeNull();
    expect(queueOfRow(2)).toBeNull();
    expect(rows[2].textContent).toContain('ran 3.0 s');
    // The whole id on hover, and a copy button beside the row (a real,
    // focusable button: keyboard reachable).
    const shortIdNode = rows[0].querySelector(
      '.jp-QiskitConnectorLab-jobShortId'
    );
    expect(shortIdNode?.textContent).not.toBe(longId);
    expect(shortIdNode?.getAttribute('title')).toBe(longId);
    expect(rows[0].getAttribute('title')).toContain(longId);
    const copy = view.node.querySelector<HTMLButtonElement>(
      `button[data-copy="${longId}"]`
    )!;
    expect(copy).not.toBeNull();
    expect(copy.tabIndex).toBe(0);
    expect(copy.getAttribute('aria-label')).toContain(longId);
    const copied: string[] = [];
    Object.defineProperty(navigator, 'clipboard', {
      configurable: true,
      value: { writeText: async (text: string) => void copied.push(text) }
    });
    copy.click();
    await Promise.resolve();
    await Promise.resolve();
    expect(copied).toEqual([longId]);
    expect(copy.textContent).toBe('Copied');
    // The server's notes on the page (a row IBM sent that was left out).
    const notes = () =>
      view.node.querySelector(
        '.jp-QiskitConnectorLab-jobsNotes'
      ) as HTMLElement;
    expect(notes().hidden).toBe(true);
    server.notes = ['1 job from IBM could not be read and is not shown.'];
    await model.refresh();
    view.render();
    expect(notes().hidden).toBe(false);
    expect(notes().textContent).toBe(
      '1 job from IBM could not be read and is not shown.'
    );
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
