import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import {
  connectCellSource,
  detailId,
  isQPUName,
  loadsExtension
} from '../commands';
import { QPUListModel } from '../model';
import { QPUClient } from '../request';
import { IQPUDetail } from '../wire';
import { QPUDetailWidget } from '../views/detail';
import { filterQpus, processorLabel } from '../views/list';
import { QPUPanel } from '../views/panel';
import { FakeServer, localPlan, qpu } from './fakeserver';
import brisbane from './fixtures/fake_brisbane.json';

// @jupyterlab/ui-components pulls in ES-module web components that this
// jest configuration does not transform; the views only need icons from it.
jest.mock('@jupyterlab/ui-components', () => {
  class LabIcon {
    constructor(readonly options: { name: string; svgstr: string }) {}
    element(): HTMLElement {
      return document.createElement('span');
    }
  }
  return {
    LabIcon,
    refreshIcon: new LabIcon({ name: 'refresh', svgstr: '<svg></svg>' })
  };
});

const trans = nullTranslator.load('qiskit_connector_lab');

async function advance(ms: number): Promise<void> {
  await jest.advanceTimersByTimeAsync(ms);
}

describe('views', () => {
  let server: FakeServer;
  let model: QPUListModel;
  let panel: QPUPanel;
  let opened: string[];

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
    server = new FakeServer();
    server.details['fake_brisbane'] = brisbane as unknown as IQPUDetail;
    model = new QPUListModel({
      client: new QPUClient({ serverSettings: server.settings() }),
      interval: 5_000
    });
    opened = [];
    panel = new QPUPanel({
      id: 'test-sidebar',
      model,
      trans,
      onOpen: name => opened.push(name)
    });
    Widget.attach(panel, document.body);
  });

  afterEach(() => {
    panel.dispose();
    model.dispose();
    jest.useRealTimers();
  });

  const rows = () =>
    Array.from(
      panel.node.querySelectorAll<HTMLButtonElement>(
        'button.jp-QiskitConnectorLab-row'
      )
    );
  const banner = () =>
    panel.node.querySelector('.jp-QiskitConnectorLab-banner') as HTMLElement;

  it('is never blank: loading, then the fleet with its queues', async () => {
    panel.qpuView.render();
    expect(banner().dataset.kind).toBe('loading');
    expect(banner().hidden).toBe(false);
    expect(banner().textContent).toContain('Loading QPUs');

    await advance(0);
    panel.qpuView.render();
    expect(banner().hidden).toBe(true);
    expect(rows().map(r => r.dataset.qpu)).toEqual([
      'fake_a',
      'fake_b',
      'fake_c'
    ]);
    const first = rows()[0];
    expect(
      first.querySelector('.jp-QiskitConnectorLab-queue')?.textContent
    ).toBe('3');
    expect(first.textContent).toContain('Least busy');
    // The least busy row's item is marked (its queue bar is coloured by it).
    const marked = panel.node.querySelectorAll('.jp-mod-leastBusy');
    expect(marked).toHaveLength(1);
    expect(marked[0].contains(first)).toBe(true);
    expect(first.querySelector('.jp-mod-online')).not.toBeNull();
    expect(first.getAttribute('aria-label')).toBe(
      'fake_a, online, 156 qubits, Heron r2, 3 jobs queued, least busy'
    );
    // The queue bar is relative to the longest queue shown.
    const bar = (r: HTMLElement) =>
      (r.querySelector('.jp-QiskitConnectorLab-barFill') as HTMLElement).style
        .width;
    expect(bar(rows()[1])).toBe('100%');
    expect(bar(rows()[0])).toBe('10%');
    expect(rows()[2].querySelector('.jp-mod-paused')).not.toBeNull();

    // Header: the local fleet says so, with the plan and instance.
    const header = panel.node.querySelector('header') as HTMLElement;
    expect(header.textContent).toContain('Local fleet');
    expect(header.textContent).toContain('Open Plan');
    expect(header.textContent).toContain('local fleet');
    expect(header.textContent).toContain('Read from the environment (no .env)');
    expect(header.textContent).not.toContain('Endpoint');
  });

  it('says which .env the server read, and an endpoint that is not IBM’s', async () => {
    server.routes.plan = () => ({
      status: 200,
      body: {
        ...localPlan(),
        config: {
          env_file: '~/class/.env',
          endpoint: 'https://eu-de.quantum.cloud.ibm.com/api/v1',
          changed_at: '2026-11-30T10:00:00+00:00'
        }
      }
    });
    await advance(0);
    panel.qpuView.render();
    const header = panel.node.querySelector('header') as HTMLElement;
    expect(header.textContent).toContain('Read from ~/class/.env');
    expect(header.textContent).toContain(
      "Endpoint https://eu-de.quantum.cloud.ibm.com/api/v1 (not IBM's default)"
    );
  });

  it('shows the listing’s notes, one line each, and nothing when there are none', async () => {
    const notes = () =>
      panel.node.querySelector(
        '.jp-QiskitConnectorLab-listingNotes'
      ) as HTMLElement;
    await advance(0);
    panel.qpuView.render();
    expect(notes().hidden).toBe(true);
    const fallback =
      "The class's QPU service could not be used (it could not be reached); listing with your own credentials.";
    server.routes.backends = () => ({
      status: 200,
      body: { ...server.listingReply(), notes: [fallback] }
    });
    await advance(5_000);
    panel.qpuView.render();
    expect(notes().hidden).toBe(false);
    expect(
      Array.from(notes().querySelectorAll('li')).map(li => li.textContent)
    ).toEqual([fallback]);
  });

  it('filters by text and by minimum qubits', async () => {
    await advance(0);
    const [text, min] = Array.from(
      panel.node.querySelectorAll<HTMLInputElement>(
        '.jp-QiskitConnectorLab-filters input'
      )
    );
    expect(text.getAttribute('aria-label')).toBe(
      'Filter QPUs by name or processor'
    );
    expect(min.getAttribute('aria-label')).toBe('Minimum number of qubits');
    text.value = 'heron';
    text.dispatchEvent(new Event('input'));
    panel.qpuView.render();
    expect(rows().map(r => r.dataset.qpu)).toEqual(['fake_a']);

    text.value = '';
    min.value = '150';
    min.dispatchEvent(new Event('input'));
    panel.qpuView.render();
    expect(rows().map(r => r.dataset.qpu)).toEqual(['fake_a']);

    min.value = '1000';
    min.dispatchEvent(new Event('input'));
    panel.qpuView.render();
    expect(rows()).toHaveLength(0);
    expect(panel.node.textContent).toContain('No QPU matches the filter');
  });

  it('updates rows in place, keeping keyboard focus, and opens on click', async () => {
    await advance(0);
    panel.qpuView.render();
    const b = rows().find(r => r.dataset.qpu === 'fake_b')!;
    b.focus();
    expect(document.activeElement).toBe(b);

    // The server ranks them again (least busy first); the list follows.
    server.qpus = [qpu('fake_b', 1, { least_busy: true }), qpu('fake_a', 40)];
    await advance(5_000);
    panel.qpuView.render();
    expect(rows().map(r => r.dataset.qpu)).toEqual(['fake_b', 'fake_a']);
    expect(rows()[0]).toBe(b);
    expect(document.activeElement).toBe(b);

    // Arrow keys move between rows.
    b.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true })
    );
    expect(document.activeElement).toBe(rows()[1]);
    rows()[1].dispatchEvent(
      new KeyboardEvent('keydown', { key: 'Home', bubbles: true })
    );
    expect(document.activeElement).toBe(b);

    b.click();
    expect(opened).toEqual(['fake_b']);
  });

  it('shows an error with a Retry button when there is no data', async () => {
    server.fail = {
      status: 503,
      body: {
        message: 'IBM Quantum is not answering.',
        code: 'upstream_unavailable'
      }
    };
    await advance(0);
    panel.qpuView.render();
    expect(banner().dataset.kind).toBe('error');
    expect(banner().getAttribute('role')).toBe('alert');
    expect(banner().textContent).toContain('Cannot load the QPUs.');
    expect(banner().textContent).toContain('IBM Quantum is not answering.');
    expect(banner().textContent).toContain('Next try in');

    server.fail = null;
    const retry = banner().querySelector('button') as HTMLButtonElement;
    expect(retry.textContent).toBe('Retry');
    const before = server.count('backends');
    retry.click();
    await advance(0);
    expect(server.count('backends')).toBe(before + 1);
    panel.qpuView.render();
    expect(banner().dataset.kind).toBe('none');
    expect(rows()).toHaveLength(3);
  });

  it('keeps the list, marked stale with its age, when a refresh fails', async () => {
    await advance(0);
    server.fail = {
      status: 500,
      body: { message: 'Boom.', code: 'internal_error' }
    };
    await advance(5_000);
    panel.qpuView.render();
    expect(rows()).toHaveLength(3);
    expect(banner().dataset.kind).toBe('stale');
    expect(banner().textContent).toContain('Stale data from 5 s ago.');
    expect(banner().textContent).toContain('Boom.');
    expect(banner().querySelector('button')?.textContent).toBe('Retry');
    expect(
      panel.node.querySelector('.jp-QiskitConnectorLab-age')?.textContent
    ).toContain('stale');
  });

  it('marks the QPU in use, and clears the pick from the sidebar', async () => {
    await advance(0);
    const bar = () =>
      panel.node.querySelector('.jp-QiskitConnectorLab-pickBar') as HTMLElement;
    panel.qpuView.render();
    expect(bar().hidden).toBe(true);
    await model.setPick('fake_c');
    panel.qpuView.render();
    const c = rows().find(r => r.dataset.qpu === 'fake_c')!;
    expect(c.textContent).toContain('In use');
    expect(c.closest('li')?.classList.contains('jp-mod-selected')).toBe(true);
    expect(bar().hidden).toBe(false);
    expect(bar().textContent).toContain(
      'A bare %qconnect uses fake_c, picked here.'
    );

    const clear = bar().querySelector('button') as HTMLButtonElement;
    expect(clear.textContent).toBe('Clear');
    clear.click();
    await advance(0);
    panel.qpuView.render();
    expect(
      JSON.parse(server.requests[server.requests.length - 1]?.body ?? '{}')
    ).toEqual({
      qpu: null
    });
    expect(bar().hidden).toBe(true);
    expect(rows().some(r => r.textContent?.includes('In use'))).toBe(false);
  });

  it('shows the server’s hint, and waits for the .env on a configuration error', async () => {
    server.routes.backends = () => ({
      status: 500,
      body: {
        message: 'OPEN_PLAN_INSTANCE: is not set.',
        code: 'config_error',
        hint: 'Set OPEN_PLAN_INSTANCE to your instance’s CRN.',
        config: {
          env_file: '/home/me/class/.env',
          endpoint: null,
          changed_at: '2026-01-01T10:00:00+00:00'
        }
      }
    });
    await advance(0);
    panel.qpuView.render();
    expect(banner().dataset.kind).toBe('error');
    const hint = banner().querySelector('.jp-QiskitConnectorLab-hint');
    expect(hint?.textContent).toBe(
      'Set OPEN_PLAN_INSTANCE to your instance’s CRN.'
    );
    expect(banner().textContent).toContain(
      'Tried again when /home/me/class/.env changes.'
    );
    expect(banner().textContent).not.toContain('Next try in');
  });

  it('keeps the search placeholder short, with the full text as its title', () => {
    const input = panel.node.querySelector(
      'input[type="search"]'
    ) as HTMLInputElement;
    expect(input.placeholder).toBe('Search');
    expect(input.title).toBe('Search QPUs by name or processor');
  });

  it('tells the model when the sidebar is shown or hidden', async () => {
    await advance(0);
    expect(model.hidden).toBe(false);
    panel.hide();
    expect(model.hidden).toBe(true);
    panel.show();
    expect(model.hidden).toBe(false);
  });

  describe('QPUDetailWidget', () => {
    let detail: QPUDetailWidget;
    let used: string[];
    let inserted: string[];

    beforeEach(async () => {
      server.qpus.push(qpu('fake_brisbane', 17));
      used = [];
      inserted = [];
      detail = new QPUDetailWidget({
        model,
        name: 'fake_brisbane',
        trans,
        onUse: name => {
          used.push(name);
          return model.setPick(name);
        },
        onInsert: name => inserted.push(name)
      });
      Widget.attach(detail, document.body);
      expect(detail.node.textContent).toContain('Loading fake_brisbane');
      await advance(0);
      await detail.reload();
    });

    afterEach(() => detail.dispose());

    it('draws the chip: one circle per qubit, one line per coupler', () => {
      const svg = detail.node.querySelector(
        'svg.jp-QiskitConnectorLab-chipSvg'
      )!;
      expect(svg.querySelectorAll('circle')).toHaveLength(127);
      expect(svg.querySelectorAll('line')).toHaveLength(144);
      expect(svg.getAttribute('role')).toBe('img');
      expect(svg.getAttribute('aria-label')).toContain(
        '127 qubits, 144 couplers'
      );
      const q0 = svg.querySelector('circle[data-qubit="0"]')!;
      expect(q0.querySelector('title')?.textContent).toMatch(
        /^Qubit 0: readout error .+, T1 .+ µs, T2 .+ µs$/
      );
      expect(q0.getAttribute('class')).toMatch(/jp-QiskitConnectorLab-bin\d/);
      const line = svg.querySelector('line')!;
      expect(line.querySelector('title')?.textContent).toMatch(
        /^Coupler \d+–\d+: ecr error /
      );
    });

    it('colours by readout or 2-qubit error, with a legend', () => {
      const legend = () =>
        detail.node.querySelector('.jp-QiskitConnectorLab-legend')!.textContent;
      expect(legend()).toContain('Readout error');
      const radios = detail.node.querySelectorAll<HTMLInputElement>(
        'input[type="radio"]'
      );
      expect(radios).toHaveLength(2);
      radios[1].checked = true;
      radios[1].dispatchEvent(new Event('change'));
      expect(detail.chip.colorBy).toBe('two-qubit');
      expect(legend()).toContain('2-qubit error');
      const line = detail.node.querySelector('line')!;
      expect(line.getAttribute('class')).toMatch(/jp-QiskitConnectorLab-bin\d/);
      const circle = detail.node.querySelector('circle[data-qubit]')!;
      expect(circle.getAttribute('class')).toContain('neutral');
      // Five bins, brisbane's one clamped outlier coupler, no data.
      expect(
        detail.node.querySelectorAll('.jp-QiskitConnectorLab-legendItem')
      ).toHaveLength(7);
      expect(legend()).toContain('1 outlier ≥ 10 %, drawn as the last colour');
      const outliers = detail.node.querySelectorAll(
        'line.jp-QiskitConnectorLab-outlier'
      );
      expect(outliers).toHaveLength(1);
      expect(outliers[0].getAttribute('class')).toContain(
        'jp-QiskitConnectorLab-bin4'
      );
    });

    it('shows the queue sparkline, medians and basis gates', () => {
      const text = detail.node.textContent!;
      expect(
        detail.node.querySelector('svg.jp-QiskitConnectorLab-sparkline')
      ).not.toBeNull();
      expect(text).toContain('Median readout error');
      expect(text).toContain('2.0 %');
      expect(text).toContain('Median 2-qubit (ecr) error');
      expect(text).toContain('Median T1');
      expect(text).toContain('232 µs');
      const gates = Array.from(
        detail.node.querySelectorAll('.jp-QiskitConnectorLab-gate')
      ).map(g => g.textContent);
      expect(gates).toEqual(['ecr', 'id', 'rz', 'sx', 'x']);
      expect(text).toContain('Eagle r3');
      expect(text).toContain('Queue: 17 jobs');
      // The local fleet's detail says whose data it is and what the date means.
      expect(
        detail.node.querySelector('.jp-QiskitConnectorLab-localBadge')
          ?.textContent
      ).toBe('Local fleet');
      expect(text).toContain(
        'Local fleet: these are the calibration data of the snapshot of fake_brisbane that qiskit-ibm-runtime ships (taken on the date above), not live data; the queue is simulated.'
      );
      expect(text).toContain('Snapshot of');
      expect(text).not.toContain('Calibrated');
      expect(text).toContain('(one scale for every QPU)');
    });

    it('runs "Use this QPU" and "Insert connect cell"', async () => {
      const buttons = Array.from(detail.node.querySelectorAll('button'));
      const use = buttons.find(b => b.textContent === 'Use this QPU')!;
      const insert = buttons.find(
        b => b.textContent === 'Insert connect cell'
      )!;
      expect(use.getAttribute('aria-pressed')).toBe('false');
      use.click();
      await advance(0);
      expect(used).toEqual(['fake_brisbane']);
      expect(use.getAttribute('aria-pressed')).toBe('true');
      expect(detail.node.textContent).toContain(
        'A bare %qconnect uses fake_brisbane.'
      );
      insert.click();
      expect(inserted).toEqual(['fake_brisbane']);
    });

    it('says so when the QPU is unknown, with a Retry', async () => {
      const unknown = new QPUDetailWidget({
        model,
        name: 'fake_nope',
        trans,
        onUse: () => undefined,
        onInsert: () => undefined
      });
      Widget.attach(unknown, document.body);
      await unknown.reload();
      expect(unknown.node.textContent).toContain('Cannot load fake_nope.');
      expect(unknown.node.textContent).toContain('unknown_backend');
      expect(
        unknown.node.querySelector('[role="alert"] button')?.textContent
      ).toBe('Retry');
      unknown.dispose();
    });
  });
});

describe('helpers', () => {
  it('writes the connect cell, loading the extension only when needed', () => {
    expect(connectCellSource('fake_fez')).toBe(
      '%load_ext qiskit_connector_lab\n%qconnect fake_fez'
    );
    expect(connectCellSource('fake_fez', true)).toBe('%qconnect fake_fez');
    expect(
      loadsExtension(['import numpy', '%load_ext qiskit_connector_lab'])
    ).toBe(true);
    expect(loadsExtension(['x = 1\n  %reload_ext qiskit_connector_lab'])).toBe(
      true
    );
    expect(loadsExtension(['# %load_ext other', '%qconnect'])).toBe(false);
    expect(loadsExtension(['%load_ext qiskit_connector_labs'])).toBe(false);
    expect(connectCellSource(null)).toBe(
      '%load_ext qiskit_connector_lab\n%qconnect'
    );
    expect(connectCellSource('x; rm -rf /')).toBe(
      '%load_ext qiskit_connector_lab\n%qconnect'
    );
  });

  it('checks names and ids', () => {
    expect(isQPUName('ibm_torino')).toBe(true);
    expect(isQPUName('')).toBe(false);
    expect(isQPUName(3)).toBe(false);
    expect(detailId('a.b')).toBe('qiskit-connector-lab-detail-a_b');
  });

  it('filters and labels', () => {
    const qpus = [qpu('fake_a', 1, { qubits: 5 }), qpu('fake_b', 2)];
    expect(
      filterQpus(qpus, { text: 'EAGLE b', minQubits: 0 }).map(q => q.name)
    ).toEqual(['fake_b']);
    expect(
      filterQpus(qpus, { text: '', minQubits: 6 }).map(q => q.name)
    ).toEqual(['fake_b']);
    expect(processorLabel({ family: 'Heron', revision: '2' })).toBe('Heron r2');
    expect(processorLabel({ processor: 'Eagle r3' })).toBe('Eagle r3');
    expect(processorLabel({})).toBe('');
  });
});
