import { QPUListModel } from '../model';
import { APIError, QPUClient } from '../request';
import { FakeServer, localPlan, qpu } from './fakeserver';

const INTERVAL = 10_000;

/**
 * Let the poll run for `ms` of fake time, settling promises on the way.
 */
async function advance(ms: number): Promise<void> {
  await jest.advanceTimersByTimeAsync(ms);
}

/**
 * A manual refresh, with fake time running until it is answered.
 */
async function refresh(model: QPUListModel): Promise<void> {
  const done = model.refresh();
  await advance(0);
  await done;
}

describe('QPUListModel', () => {
  let server: FakeServer;
  let model: QPUListModel;
  let changes: number;

  function create(options: Partial<QPUListModel.IOptions> = {}) {
    model = new QPUListModel({
      client: new QPUClient({ serverSettings: server.settings() }),
      interval: INTERVAL,
      ...options
    });
    model.changed.connect(() => {
      changes++;
    });
    // A visible sidebar.
    model.setViewVisible('sidebar', true);
    return model;
  }

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
    server = new FakeServer();
    changes = 0;
  });

  afterEach(() => {
    model?.dispose();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  it('starts loading, then shows the fleet, the plan and the pick', async () => {
    create();
    expect(model.phase).toBe('loading');
    expect(model.qpus).toEqual([]);
    expect(model.ageSeconds()).toBeNull();

    await advance(0);

    expect(model.phase).toBe('ready');
    expect(model.error).toBeNull();
    expect(model.stale).toBe(false);
    expect(model.plan?.local).toBe(true);
    expect(model.plan?.instance).toBe('local fleet');
    expect(model.pick).toEqual({
      qpu: null,
      provider: 'local',
      updated_at: null
    });
    // The server's order: least busy first, a paused QPU after the online ones.
    expect(model.qpus.map(q => q.name)).toEqual(['fake_a', 'fake_b', 'fake_c']);
    expect(server.count('backends')).toBe(1);
    expect(server.count('plan')).toBe(1);
    expect(server.count('pick')).toBe(1);
    expect(changes).toBeGreaterThan(0);
  });

  it('polls the listing at the interval, and the plan only on refresh', async () => {
    create();
    await advance(0);
    expect(server.count('backends')).toBe(1);

    server.qpus = [qpu('fake_b', 1), qpu('fake_a', 9)];
    await advance(INTERVAL - 1);
    expect(server.count('backends')).toBe(1);
    await advance(1);
    expect(server.count('backends')).toBe(2);
    expect(model.qpus.map(q => [q.name, q.queue])).toEqual([
      ['fake_b', 1],
      ['fake_a', 9]
    ]);

    await advance(INTERVAL * 3);
    expect(server.count('backends')).toBe(5);
    expect(server.count('plan')).toBe(1);

    // A manual refresh asks at once, for the plan and pick too.
    await refresh(model);
    expect(server.count('backends')).toBe(6);
    expect(server.count('plan')).toBe(2);
    expect(server.count('pick')).toBe(2);
  });

  it('follows a new interval (the settings registry)', async () => {
    create();
    await advance(0);
    model.interval = 2_000;
    expect(model.interval).toBe(2_000);
    await advance(2_000);
    expect(server.count('backends')).toBe(2);
    await advance(2_000);
    expect(server.count('backends')).toBe(3);
    // Below one second is clamped.
    model.interval = 10;
    expect(model.interval).toBe(1_000);
  });

  it('reports an error with no data, backs off, and recovers', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.999999);
    server.fail = {
      status: 503,
      body: {
        message: 'IBM Quantum is not answering.',
        code: 'upstream_unavailable'
      }
    };
    create();
    await advance(0);

    expect(model.phase).toBe('error');
    expect(model.error).toEqual({
      message: 'IBM Quantum is not answering.',
      code: 'upstream_unavailable',
      status: 503
    });
    expect(model.stale).toBe(false);
    expect(model.failures).toBe(1);

    // Backoff: each wait grows (Poll's growth factor 3), up to the maximum.
    const delays: number[] = [];
    let requests = server.count('backends');
    for (let i = 0; i < 5; i++) {
      delays.push(model.retryDelay as number);
      await advance(model.retryDelay as number);
      expect(server.count('backends')).toBe(++requests);
    }
    expect(delays[0]).toBe(INTERVAL);
    for (let i = 1; i < delays.length; i++) {
      expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]);
    }
    expect(delays[1]).toBeGreaterThan(delays[0]);
    expect(Math.max(...delays)).toBeLessThanOrEqual(8 * INTERVAL);
    expect(delays[delays.length - 1]).toBe(8 * INTERVAL);
    expect(model.nextAttempt).toBe(Date.now() + (model.retryDelay as number));

    // The server is back: a retry shows the fleet, and the interval is normal again.
    server.fail = null;
    await refresh(model);
    expect(model.phase).toBe('ready');
    expect(model.error).toBeNull();
    expect(model.failures).toBe(0);
    expect(model.retryDelay).toBeNull();
    requests = server.count('backends');
    await advance(INTERVAL);
    expect(server.count('backends')).toBe(requests + 1);
  });

  it('retries a configuration error when the .env changes, not on a timer', async () => {
    let changedAt = '2026-01-01T10:00:00+00:00';
    const configError = () => ({
      status: 500,
      body: {
        message: 'OPEN_PLAN_INSTANCE: is not set.',
        code: 'config_error',
        hint: 'Set OPEN_PLAN_INSTANCE to your instance’s CRN.',
        config: {
          env_file: '/home/me/class/.env',
          endpoint: null,
          changed_at: changedAt
        }
      }
    });
    let broken = true;
    const backends = server.routes.backends;
    server.routes.backends = (m, b) =>
      broken ? configError() : backends(m, b);
    server.routes.plan = () => configError();
    create();
    await advance(0);
    expect(model.phase).toBe('error');
    expect(model.error?.hint).toBe(
      'Set OPEN_PLAN_INSTANCE to your instance’s CRN.'
    );
    expect(model.waitsForConfig).toBe(true);

    // Unchanged: each interval only asks whether the configuration changed.
    const listings = server.count('backends');
    for (let i = 0; i < 4; i++) {
      await advance(INTERVAL);
      expect(model.retryDelay).toBe(INTERVAL); // no backoff
    }
    expect(server.count('backends')).toBe(listings);
    expect(server.count('plan')).toBeGreaterThanOrEqual(4);

    // The user fixes the .env: the next look sees the change and loads.
    broken = false;
    changedAt = '2026-01-01T10:05:00+00:00';
    await advance(INTERVAL);
    expect(server.count('backends')).toBe(listings + 1);
    expect(model.phase).toBe('ready');
    expect(model.waitsForConfig).toBe(false);
  });

  it('retries on a timer when the server does not report its configuration', async () => {
    server.routes.backends = () => ({
      status: 500,
      body: { message: 'OPEN_PLAN_INSTANCE: is not set.', code: 'config_error' }
    });
    // A server older than the configuration stamp: its plan has no config.
    const { config, ...older } = localPlan();
    expect(config).toBeDefined();
    server.routes.plan = () => ({ status: 200, body: older });
    create();
    await advance(0);
    expect(model.phase).toBe('error');
    expect(model.waitsForConfig).toBe(false);
    const listings = server.count('backends');
    await advance(model.retryDelay as number);
    expect(server.count('backends')).toBe(listings + 1);
  });

  it('keeps the last good data, marked stale, when the server fails', async () => {
    create();
    await advance(0);
    expect(model.qpus).toHaveLength(3);

    server.fail = {
      status: 500,
      body: { message: 'The upstream failed.', code: 'internal_error' }
    };
    await advance(INTERVAL);
    expect(model.phase).toBe('ready');
    expect(model.qpus).toHaveLength(3);
    expect(model.stale).toBe(true);
    expect(model.staleReason).toBe('The upstream failed.');
    expect(model.error?.code).toBe('internal_error');

    // The age keeps growing while the data is old.
    const age = model.ageSeconds() as number;
    expect(age).toBeGreaterThanOrEqual(INTERVAL / 1000);
  });

  it('shows the server’s own stale flag and reason', async () => {
    server.stale = true;
    server.staleReason =
      'IBM Quantum did not answer; showing the last listing.';
    server.ageSeconds = 95;
    create();
    await advance(0);
    expect(model.phase).toBe('ready');
    expect(model.error).toBeNull();
    expect(model.stale).toBe(true);
    expect(model.staleReason).toBe(
      'IBM Quantum did not answer; showing the last listing.'
    );
    expect(model.ageSeconds()).toBeCloseTo(95, 1);
    await advance(2_000);
    expect(model.ageSeconds()).toBeCloseTo(97, 1);

    server.stale = false;
    server.ageSeconds = 0;
    await refresh(model);
    expect(model.stale).toBe(false);
    expect(model.staleReason).toBe('');
  });

  it('calls a network failure a network error', async () => {
    server.fail = 'network';
    create();
    await advance(0);
    expect(model.phase).toBe('error');
    expect(model.error?.code).toBe('network');
    expect(model.error?.status).toBe(0);
  });

  it('gives up on a request that never ends, and polls on', async () => {
    server.hang = true;
    model = new QPUListModel({
      client: new QPUClient({
        serverSettings: server.settings(),
        timeout: 3_000
      }),
      interval: INTERVAL
    });
    model.setViewVisible('sidebar', true);
    await advance(0);
    expect(model.busy).toBe(true);
    expect(model.phase).toBe('loading');
    await advance(3_000);
    expect(model.busy).toBe(false);
    expect(model.phase).toBe('error');
    expect(model.error).toEqual({
      message: 'The Jupyter server did not answer within 3 s.',
      code: 'timeout',
      status: 0
    });
    server.hang = false;
    await advance(model.retryDelay as number);
    expect(model.phase).toBe('ready');
  });

  it('stands by while every view is hidden, and catches up when shown', async () => {
    create();
    await advance(0);
    expect(server.count('backends')).toBe(1);

    model.setViewVisible('sidebar', false);
    expect(model.hidden).toBe(true);
    await advance(INTERVAL * 5);
    expect(server.count('backends')).toBe(1);

    // Another view (a detail view) keeps it awake.
    model.setViewVisible('detail', true);
    await advance(0);
    expect(server.count('backends')).toBe(2);
    model.setViewVisible('detail', false);
    await advance(INTERVAL * 3);
    expect(server.count('backends')).toBe(2);

    // Shown again after more than an interval: asked at once.
    model.setViewVisible('sidebar', true);
    await advance(0);
    expect(server.count('backends')).toBe(3);
  });

  it('stands by while the browser tab is hidden', async () => {
    create();
    await advance(0);
    const visibility = jest
      .spyOn(document, 'visibilityState', 'get')
      .mockReturnValue('hidden');
    document.dispatchEvent(new Event('visibilitychange'));

    // Poll lingers one tick, then stands by.
    await advance(INTERVAL * 6);
    expect(server.count('backends')).toBeLessThanOrEqual(2);
    const before = server.count('backends');
    await advance(INTERVAL * 6);
    expect(server.count('backends')).toBe(before);

    visibility.mockReturnValue('visible');
    document.dispatchEvent(new Event('visibilitychange'));
    await advance(INTERVAL);
    expect(server.count('backends')).toBe(before + 1);
  });

  it('stores the pick, clears it, and signals both', async () => {
    create();
    await advance(0);
    const seen: (string | null)[] = [];
    model.pickChanged.connect((_, s) => seen.push(s?.qpu ?? null));

    const pick = await model.setPick('fake_b');
    expect(pick.qpu).toBe('fake_b');
    expect(model.pick?.qpu).toBe('fake_b');
    expect(seen).toEqual(['fake_b']);
    const post = server.requests.find(r => r.method === 'POST');
    expect(post?.path).toBe('pick');
    expect(JSON.parse(post?.body ?? '')).toEqual({ qpu: 'fake_b' });

    await expect(model.setPick('fake_zzz')).rejects.toMatchObject({
      code: 'unknown_backend',
      message: "QPU 'fake_zzz' is not listed."
    });
    await expect(model.setPick('fake_zzz')).rejects.toBeInstanceOf(APIError);
    expect(model.pick?.qpu).toBe('fake_b');

    await model.setPick(null);
    expect(model.pick?.qpu).toBeNull();
    expect(seen).toEqual(['fake_b', null]);
  });

  it('keeps the server’s ranking as it is: one ranking, the server’s', async () => {
    // Equal queues: the server breaks the tie (more qubits, then the name);
    // the frontend must not re-sort them by its own rule.
    server.qpus = [
      qpu('fake_z', 2, { qubits: 156 }),
      qpu('fake_a', 2, { qubits: 5 }),
      qpu('fake_m', null),
      qpu('fake_b', 1, { status: 'paused' })
    ];
    create();
    await advance(0);
    expect(model.qpus.map(q => q.name)).toEqual([
      'fake_z',
      'fake_a',
      'fake_m',
      'fake_b'
    ]);
  });

  it('does not show a pick made on the other provider', async () => {
    server.pick = {
      qpu: 'ibm_fez',
      provider: 'ibm',
      updated_at: '2025-01-01T00:00:00+00:00'
    };
    create();
    await advance(0);
    expect(model.pick).toBeNull();
  });

  it('fetches a QPU’s detail, and reports an unknown one', async () => {
    create();
    await expect(model.detail('fake_nope')).rejects.toMatchObject({
      code: 'unknown_backend'
    });
    expect(server.requests[server.requests.length - 1].path).toBe(
      'backends/fake_nope'
    );
  });

  it('loads the fleet once for a command while the panel is hidden', async () => {
    create();
    model.setViewVisible('sidebar', false);
    await advance(0);
    expect(server.count('backends')).toBe(0);
    const qpus = await model.ensureQpus();
    expect(qpus.map(q => q.name)).toEqual(['fake_a', 'fake_b', 'fake_c']);
    expect(server.count('backends')).toBe(1);
  });

  it('stops polling when disposed', async () => {
    create();
    await advance(0);
    model.dispose();
    expect(model.isDisposed).toBe(true);
    await advance(INTERVAL * 3);
    expect(server.count('backends')).toBe(1);
  });
});
