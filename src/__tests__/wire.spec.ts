/**
 * The fake server the view tests run against answers as the real one does:
 * every answer it gives is checked against the one description of the wire,
 * `qiskit_connector_lab/server/wire.schema.json`, which the server's own
 * tests check the real answers against.
 */
import Ajv2020, { ValidateFunction } from 'ajv/dist/2020';

import { QPUClient } from '../request';
import wireSchema from '../../qiskit_connector_lab/server/wire.schema.json';
import { BASE_URL, FakeJobs, FakeServer, job, localPlan } from './fakeserver';
import brisbane from './fixtures/fake_brisbane.json';

const ajv = new Ajv2020({ allErrors: true, strictTypes: false });
// The one format the schema names: an ISO 8601 date and time.
ajv.addFormat(
  'date-time',
  (text: string) =>
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(text) &&
    !isNaN(Date.parse(text))
);
ajv.addSchema(wireSchema);

function validator(def: string): ValidateFunction {
  const validate = ajv.getSchema(`${wireSchema.$id}#/$defs/${def}`);
  if (!validate) {
    throw new Error(`wire.schema.json has no $defs/${def}`);
  }
  return validate;
}

/**
 * The answer's problems against `$defs/def`, '' when it conforms.
 */
function problems(def: string, answer: unknown): string {
  const validate = validator(def);
  return validate(answer) ? '' : ajv.errorsText(validate.errors);
}

/**
 * One answer of the fake server, as the browser receives it.
 */
async function answer(
  server: FakeServer,
  path: string,
  method = 'GET',
  body: unknown = null
): Promise<{ status: number; body: unknown }> {
  const text = body === null ? '' : JSON.stringify(body);
  const response = await server.fetch({
    url: `${BASE_URL}qiskit-connector-lab/${path}`,
    method,
    text: async () => text
  } as unknown as Request);
  return { status: response.status, body: JSON.parse(await response.text()) };
}

describe('the fake server speaks the wire', () => {
  let server: FakeServer;

  beforeEach(() => {
    server = new FakeServer();
    server.details['fake_brisbane'] = brisbane as any;
  });

  it('answers plan, backends, a QPU, and pick as the schema says', async () => {
    expect(problems('plan', (await answer(server, 'plan')).body)).toBe('');
    expect(problems('backends', (await answer(server, 'backends')).body)).toBe(
      ''
    );
    expect(
      problems(
        'qpu_detail',
        (await answer(server, 'backends/fake_brisbane')).body
      )
    ).toBe('');
    expect(problems('pick', (await answer(server, 'pick')).body)).toBe('');
    const picked = await answer(server, 'pick', 'POST', { qpu: 'fake_b' });
    expect(picked.status).toBe(200);
    expect(problems('pick', picked.body)).toBe('');
    expect((picked.body as { qpu: string }).qpu).toBe('fake_b');
    const cleared = await answer(server, 'pick', 'POST', { qpu: null });
    expect(problems('pick', cleared.body)).toBe('');
  });

  it('answers errors as the schema says', async () => {
    for (const reply of [
      await answer(server, 'backends/nope'),
      await answer(server, 'nothing-here'),
      await answer(server, 'pick', 'POST', { qpu: 'nope' })
    ]) {
      expect(reply.status).toBe(404);
      expect(problems('error', reply.body)).toBe('');
    }
  });

  it('gives the QPU client what the schema says', async () => {
    const client = new QPUClient({ serverSettings: server.settings() });
    expect(problems('backends', await client.getQPUs())).toBe('');
    expect(problems('plan', await client.getPlan())).toBe('');
    expect(problems('qpu_detail', await client.getQPU('fake_brisbane'))).toBe(
      ''
    );
    expect(problems('pick', await client.setPick('fake_a'))).toBe('');
    // The request body the server reads: {"qpu": name}.
    const post = server.requests.filter(r => r.method === 'POST').pop();
    expect(JSON.parse(post?.body ?? '')).toEqual({ qpu: 'fake_a' });
  });

  it('answers the jobs routes as the schema says', async () => {
    const jobs = new FakeJobs();
    jobs.jobs = [
      job('local-31af', 'QUEUED'),
      job('d07923986b', 'DONE', {
        provider: 'ibm',
        started: '2026-11-30T20:00:01+00:00',
        finished: '2026-11-30T20:00:05+00:00',
        tags: ['lab']
      }),
      job('e1', 'ERROR', { error: 'The job failed.', shots: null })
    ];
    expect(problems('jobs_page', await jobs.getJobs({ pending: false }))).toBe(
      ''
    );
    expect(problems('jobs_page', await jobs.getJobs({ pending: true }))).toBe(
      ''
    );
    expect(problems('job_detail', await jobs.getJob('d07923986b'))).toBe('');
    expect(problems('job_cancel', await jobs.cancelJob('local-31af'))).toBe('');
  });

  it('is a check that can fail: an old word or a missing field is named', () => {
    const { plan_display_name, ...plan } = localPlan();
    expect(plan_display_name).toBeTruthy();
    expect(
      problems('plan', { ...plan, plan_title: plan_display_name })
    ).toMatch(/plan_display_name|additional/);
    expect(
      problems('pick', { backend: null, provider: 'local', updated_at: null })
    ).not.toBe('');
    expect(
      problems('jobs_page_job', { ...job('a', 'DONE'), backend: 'fake_fez' })
    ).not.toBe('');
  });
});
