import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { accountPlugin } from './account/plugin';
import { registerCommands } from './addCommands';
import { CommandIDs } from './commands';
import { openOnFirstLaunch } from './firstLaunch';
import { jobsPlugin } from './jobs/plugin';
// The model and the sidebar are built at activation: no lazy import.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { DEFAULT_INTERVAL, QPUListModel } from './model';
// The settings are followed from activation on.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { followSeconds } from './polling';
import { QPUClient } from './request';
import { IQPUListModel } from './tokens';
import type { QPUDetailWidget } from './views/detail';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { QPUPanel } from './views/panel';

export { insertConnectCell } from './addCommands';

/**
 * The plugin id; also the key of its settings in schema/plugin.json.
 */
export const PLUGIN_ID = 'qiskit-connector-lab:plugin';

/**
 * The id of the left-sidebar panel.
 */
export const SIDEBAR_ID = 'qiskit-connector-lab-sidebar';

/**
 * The qiskit-connector-lab frontend plugin: the QPU sidebar (a panel other
 * views can add a section to, see `QPUPanel.addSection`), the detail view
 * and the commands (`commands.ts`). Only JupyterFrontEnd is required, so it
 * runs in JupyterLab and Notebook 7 alike.
 */
const plugin: JupyterFrontEndPlugin<IQPUListModel> = {
  id: PLUGIN_ID,
  description:
    'A sidebar of IBM Quantum QPUs: live queues, processor art and a backend picker for %qconnect.',
  autoStart: true,
  provides: IQPUListModel,
  optional: [
    ISettingRegistry,
    ITranslator,
    ICommandPalette,
    INotebookTracker,
    ILabShell,
    ILayoutRestorer,
    IStateDB
  ],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    state: IStateDB | null
  ): IQPUListModel => {
    console.log('JupyterLab extension qiskit-connector-lab is activated!');
    const trans = (translator ?? nullTranslator).load('qiskit_connector_lab');

    const model = new QPUListModel({
      client: new QPUClient({
        serverSettings: app.serviceManager.serverSettings
      }),
      interval: DEFAULT_INTERVAL
    });

    const sidebar = new QPUPanel({
      id: SIDEBAR_ID,
      model,
      trans,
      onOpen: name => void app.commands.execute(CommandIDs.showDetail, { name })
    });
    app.shell.add(sidebar, 'left', { rank: 900 });
    restorer?.add(sidebar, SIDEBAR_ID);

    const tracker = new WidgetTracker<MainAreaWidget<QPUDetailWidget>>({
      namespace: 'qiskit-connector-lab-qpu'
    });
    registerCommands({
      app,
      model,
      sidebar,
      sidebarId: SIDEBAR_ID,
      tracker,
      trans,
      mainAreaDetails: !!labShell,
      palette,
      notebooks
    });
    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.showDetail,
        args: widget => ({ name: widget.content.name }),
        name: widget => widget.content.name
      });
    }

    // JupyterLab: the sidebar opens once, on the first launch after install
    // (after the layout is restored, so a later launch keeps the user's).
    if (labShell && state) {
      void app.restored.then(() =>
        openOnFirstLaunch(state, () => app.shell.activateById(SIDEBAR_ID))
      );
    }

    if (settingRegistry) {
      followSeconds(settingRegistry, PLUGIN_ID, {
        refreshInterval: ms => (model.interval = ms)
      }).catch(reason => {
        console.error(
          'Failed to load settings for qiskit-connector-lab.',
          reason
        );
      });
    }

    return model;
  }
};

export default [plugin, jobsPlugin, accountPlugin];
