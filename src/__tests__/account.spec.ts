import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { AccountClient, IAccountStatus, IInstance } from '../account/client';
import { AccountModel, KEY_LIFETIME } from '../account/model';
import { AccountSection, instanceLabel } from '../account/view';
import { FakeServer } from './fakeserver';

const trans = nullTranslator.load('qiskit_connector_lab');
const KEY = 'the-pasted-api-key-0123456789';

const INSTANCES: IInstance[] = [
  {
    crn: 'crn:v1:bluemix:public:quantum-computing:us-east:a/x:open::',
    name: 'open-instance',
    plan: 'open',
    pricing_type: 'free',
    region: 'us-east'
  },
  {
    crn: 'crn:v1:bluemix:public:quantum-computing:eu-de:a/x:premium::',
    name: 'premium-instance',
    plan: 'premium',
    pricing_type: 'subscription',
    region: 'eu-de'
  }
];

function notSignedIn(extra: Partial<IAccountStatus> = {}): IAccountStatus {
  return {
    signed_in: false,
    instance: null,
    stored_at: null,
    source: 'none',
    source_detail: null,
    api_key_page: 'https://quantum.cloud.ibm.com/',
    note: null,
    problems: [],
    ...extra
  };
}

/**
 * The fake server's `account` route: the key it accepts, and its state.
 */
function accountRoute(server: FakeServer) {
  const state = { status: notSignedIn(), requests: [] as unknown[] };
  server.routes['account'] = (method, body) => {
    const data = body ? JSON.parse(body) : null;
    state.requests.push({ method, data });
    if (method === 'DELETE') {
      state.status = notSignedIn();
      return { status: 200, body: state.status };
    }
    if (method === 'POST') {
      const token = data.token ?? (state.status.signed_in ? KEY : null);
      if (token !== KEY) {
        return {
          status: 502,
          body: {
            message: 'IBM refused this API key (HTTP 400 at IBM Cloud IAM).',
            code: 'unauthorized',
            hint: 'Copy the whole key again. Nothing was stored.'
          }
        };
      }
      if (!data.instance) {
        return { status: 200, body: { instances: INSTANCES } };
      }
      const chosen = INSTANCES.find(i => i.crn === data.instance)!;
      state.status = {
        ...notSignedIn(),
        signed_in: true,
        instance: chosen.crn,
        instance_name: chosen.name,
        plan: chosen.plan,
        pricing_type: chosen.pricing_type,
        stored_at: '~/.qiskit/qiskit-ibm.json (account qiskit-connector-lab)',
        source: 'sign-in',
        source_detail: 'saved account qiskit-connector-lab'
      };
      return { status: 200, body: state.status };
    }
    return { status: 200, body: state.status };
  };
  return state;
}

describe('AccountModel', () => {
  let server: FakeServer;
  let state: ReturnType<typeof accountRoute>;
  let model: AccountModel;
  let changes: number;

  beforeEach(() => {
    server = new FakeServer();
    state = accountRoute(server);
    changes = 0;
    model = new AccountModel({
      client: new AccountClient(server.settings()),
      onChange: () => {
        changes += 1;
      }
    });
  });

  afterEach(() => {
    model.dispose();
    jest.useRealTimers();
  });

  it('checks the key, lists the instances, then signs in with the choice', async () => {
    await model.refresh();
    expect(model.status?.signed_in).toBe(false);
    await model.open();
    await model.check(`  ${KEY} `);
    expect(model.step).toBe('choose');
    expect(model.instances.map(i => i.name)).toEqual([
      'open-instance',
      'premium-instance'
    ]);
    expect(await model.choose(INSTANCES[1].crn)).toBe(true);
    expect(state.requests.slice(1)).toEqual([
      { method: 'POST', data: { token: KEY } },
      { method: 'POST', data: { token: KEY, instance: INSTANCES[1].crn } }
    ]);
    expect(model.status?.instance_name).toBe('premium-instance');
    expect(model.step).toBe('closed');
    expect(changes).toBe(1);
    expect(JSON.stringify(model.status)).not.toContain(KEY);
    // the key is forgotten once stored
    expect(await model.choose(INSTANCES[0].crn)).toBe(false);
    expect(model.error).toContain('paste it again');
  });

  it('asks for a key before sending anything', async () => {
    await model.open();
    await model.check('   ');
    expect(model.error).toContain('Paste your IBM Quantum API key');
    expect(state.requests).toEqual([]);
  });

  it('shows a refused key as one line with its hint, and keeps the form open', async () => {
    await model.open();
    await model.check('wrong-key-0123456789');
    expect(model.step).toBe('key');
    expect(model.error).toBe(
      'IBM refused this API key (HTTP 400 at IBM Cloud IAM). Copy the whole key again. Nothing was stored.'
    );
    expect(changes).toBe(0);
  });

  it('forgets the pasted key after its lifetime', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
    await model.open();
    await model.check(KEY);
    jest.advanceTimersByTime(KEY_LIFETIME + 1);
    expect(await model.choose(INSTANCES[0].crn)).toBe(false);
    expect(model.step).toBe('key');
    expect(state.requests.filter((r: any) => r.data?.instance)).toEqual([]);
  });

  it('switches instance with the key signed in already, never sending it', async () => {
    await model.open();
    await model.check(KEY);
    await model.choose(INSTANCES[0].crn);
    await model.open(true);
    expect(model.switching).toBe(true);
    expect(model.step).toBe('choose');
    await model.choose(INSTANCES[1].crn);
    expect(state.requests.slice(-2)).toEqual([
      { method: 'POST', data: {} },
      { method: 'POST', data: { instance: INSTANCES[1].crn } }
    ]);
    expect(model.status?.instance_name).toBe('premium-instance');
  });

  it('signs out', async () => {
    await model.open();
    await model.check(KEY);
    await model.choose(INSTANCES[0].crn);
    await model.signOut();
    expect(server.count('account', 'DELETE')).toBe(1);
    expect(model.status?.signed_in).toBe(false);
    expect(changes).toBe(2);
  });
});

describe('AccountSection', () => {
  let server: FakeServer;
  let model: AccountModel;
  let section: AccountSection;
  let answer: boolean;
  let asked: string[];

  const flush = async () => {
    for (let i = 0; i < 10; i++) {
      await Promise.resolve();
    }
    await new Promise(resolve => setTimeout(resolve, 0));
    section.render();
  };
  const button = (name: string) =>
    section.node.querySelector<HTMLButtonElement>(
      `.jp-QiskitConnectorLab-${name}`
    );

  beforeEach(async () => {
    server = new FakeServer();
    accountRoute(server);
    model = new AccountModel({ client: new AccountClient(server.settings()) });
    answer = true;
    asked = [];
    section = new AccountSection({
      model,
      trans,
      confirm: async title => {
        asked.push(title);
        return answer;
      }
    });
    Widget.attach(section, document.body);
    await model.refresh();
    section.render();
  });

  afterEach(() => {
    section.dispose();
    model.dispose();
  });

  it('signs in with the keyboard: a password field, a link to IBM, the instances', async () => {
    const signIn = button('signIn')!;
    expect(signIn.textContent).toBe('Sign in to IBM Quantum');
    signIn.click();
    await flush();
    const input = section.keyInput;
    expect(input.type).toBe('password');
    expect(document.activeElement).toBe(input);
    const link = section.node.querySelector<HTMLAnchorElement>(
      '.jp-QiskitConnectorLab-keyLink'
    )!;
    expect(link.href).toBe('https://quantum.cloud.ibm.com/');
    expect(link.rel).toContain('noopener');

    input.value = KEY;
    input.form!.requestSubmit();
    await flush();
    const labels = Array.from(
      section.node.querySelectorAll('.jp-QiskitConnectorLab-instanceChoice')
    ).map(l => l.textContent?.trim());
    expect(labels).toEqual([
      'open-instance (open plan, free, us-east)',
      'premium-instance (premium plan, subscription, eu-de)'
    ]);
    expect(input.value).toBe('');
    expect(section.node.innerHTML).not.toContain(KEY);
    const radios =
      section.node.querySelectorAll<HTMLInputElement>('input[type=radio]');
    expect(document.activeElement).toBe(radios[0]);
    radios[1].checked = true;
    radios[1].dispatchEvent(new Event('change'));
    radios[1].form!.requestSubmit();
    await flush();

    const summary = section.node.querySelector(
      '.jp-QiskitConnectorLab-accountSummary'
    )!;
    expect(summary.textContent).toContain(
      'Signed in: premium-instance (premium plan, subscription)'
    );
    expect(summary.textContent).toContain(
      'Stored in ~/.qiskit/qiskit-ibm.json (account qiskit-connector-lab)'
    );
    expect(button('switchInstance')).not.toBeNull();
    expect(section.node.innerHTML).not.toContain(KEY);
  });

  it('signs out only after the confirmation', async () => {
    await model.open();
    await model.check(KEY);
    await model.choose(INSTANCES[0].crn);
    section.render();
    answer = false;
    button('signOut')!.click();
    await flush();
    expect(asked).toEqual(['Sign out of IBM Quantum?']);
    expect(server.count('account', 'DELETE')).toBe(0);
    answer = true;
    button('signOut')!.click();
    await flush();
    expect(server.count('account', 'DELETE')).toBe(1);
    expect(button('signIn')).not.toBeNull();
  });

  it('shows an error in an alert and which source wins', async () => {
    button('signIn')!.click();
    await flush();
    section.keyInput.value = 'wrong-key-0123456789';
    section.keyInput.form!.requestSubmit();
    await flush();
    const error = section.node.querySelector('[role=alert]')!;
    expect(error.textContent).toContain('IBM refused this API key');
    expect((error as HTMLElement).hidden).toBe(false);

    server.routes['account'] = () => ({
      status: 200,
      body: notSignedIn({
        source: 'environment',
        source_detail: 'environment',
        note: 'The token from environment is used, not the sign-in.'
      })
    });
    model.close();
    await model.refresh();
    section.render();
    expect(section.node.textContent).toContain(
      'Using the API key from the environment.'
    );
    expect(section.node.querySelector('[role=status]')?.textContent).toContain(
      'is used, not the sign-in'
    );
  });

  it('labels an instance without a region', () => {
    expect(instanceLabel({ ...INSTANCES[0], region: null }, trans)).toBe(
      'open-instance (open plan, free)'
    );
  });
});
