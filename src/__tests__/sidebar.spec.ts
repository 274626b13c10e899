import { StateDB } from '@jupyterlab/statedb';
import { nullTranslator } from '@jupyterlab/translation';
import { MessageLoop } from '@lumino/messaging';
import { TabBar, Widget } from '@lumino/widgets';

import { FIRST_LAUNCH_KEY, openOnFirstLaunch } from '../firstLaunch';
import { JobsModel } from '../jobs/model';
import { JobsPanel } from '../jobs/panel';
import { QPUListModel } from '../model';
import { QPUClient } from '../request';
import { QPUPanel } from '../views/panel';
import { FakeJobs, FakeServer } from './fakeserver';

// @jupyterlab/ui-components pulls in ES-module web components that this
// jest configuration does not transform; the panels only need icons.
jest.mock('@jupyterlab/ui-components', () => {
  class LabIcon {
    constructor(readonly options: { name: string; svgstr: string }) {}
    get name(): string {
      return this.options.name;
    }
    element(): HTMLElement {
      return document.createElement('span');
    }
    render(host: HTMLElement): void {
      host.dataset.icon = this.options.name;
    }
  }
  return {
    LabIcon,
    refreshIcon: new LabIcon({ name: 'refresh', svgstr: '<svg></svg>' })
  };
});

const trans = nullTranslator.load('qiskit_connector_lab');

describe('first sight', () => {
  it('opens the sidebar on the first launch only, then remembers', async () => {
    const state = new StateDB();
    let opened = 0;
    const open = () => void opened++;
    expect(await openOnFirstLaunch(state, open)).toBe(true);
    expect(opened).toBe(1);
    expect(await state.fetch(FIRST_LAUNCH_KEY)).toBeTruthy();
    // The next launches (same state database) keep the user's layout.
    expect(await openOnFirstLaunch(state, open)).toBe(false);
    expect(await openOnFirstLaunch(state, open)).toBe(false);
    expect(opened).toBe(1);
  });

  it('leaves the layout alone when the state database fails', async () => {
    const state = new StateDB();
    jest.spyOn(state, 'fetch').mockRejectedValue(new Error('no database'));
    let opened = 0;
    expect(await openOnFirstLaunch(state, () => void opened++)).toBe(false);
    expect(opened).toBe(0);
  });

  it('labels both sidebar tabs: a tooltip and an accessible name each, and icons of their own', () => {
    const server = new FakeServer();
    const qpuModel = new QPUListModel({
      client: new QPUClient({ serverSettings: server.settings() }),
      auto: false
    });
    const jobsModel = new JobsModel({
      client: new FakeJobs(),
      auto: false,
      storage: null
    });
    const qpus = new QPUPanel({
      id: 'test-qpus',
      model: qpuModel,
      trans,
      onOpen: () => undefined
    });
    const jobs = new JobsPanel({
      id: 'test-jobs',
      model: jobsModel,
      trans,
      queueOf: () => null,
      onOpen: () => undefined
    });
    // The left sidebar is a lumino TabBar of the panels' titles.
    const bar = new TabBar<Widget>({ orientation: 'vertical' });
    bar.addTab(qpus.title);
    bar.addTab(jobs.title);
    Widget.attach(bar, document.body);
    // Rendered now rather than on the next animation frame.
    MessageLoop.sendMessage(bar, Widget.Msg.UpdateRequest);
    const tabs = Array.from(bar.node.querySelectorAll('li'));
    expect(tabs.map(t => t.getAttribute('title'))).toEqual([
      'IBM Quantum QPUs',
      'Quantum jobs'
    ]);
    // No text in a tab: its title is its accessible name.
    for (const tab of tabs) {
      expect(tab.textContent?.trim()).toBe('');
      expect(tab.getAttribute('role')).toBe('tab');
    }
    const icons = [qpus.title.icon, jobs.title.icon].map(
      icon => (icon as unknown as { name: string }).name
    );
    expect(icons).toEqual([
      'qiskit-connector-lab:qpu',
      'qiskit-connector-lab:jobs'
    ]);
    expect(qpus.node.getAttribute('aria-label')).toBe('IBM Quantum QPUs');
    expect(jobs.node.getAttribute('aria-label')).toBe('Quantum jobs');
    bar.dispose();
    qpus.dispose();
    jobs.dispose();
    qpuModel.dispose();
    jobsModel.dispose();
  });
});
