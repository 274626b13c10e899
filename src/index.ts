import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  InputDialog,
  MainAreaWidget,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import {
  CommandIDs,
  connectCellSource,
  detailId,
  isBackendName,
  NO_ARGS_SCHEMA,
  PALETTE_CATEGORY,
  QPU_ARGS_SCHEMA
} from './commands';
import { qpuIcon } from './icons';
import { jobsPlugin } from './jobs/plugin';
// The model and the sidebar are built at activation: no lazy import.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { DEFAULT_INTERVAL, QPUFleetModel } from './model';
import { QPUClient, toFleetError } from './request';
import { IQPUFleetModel } from './tokens';
import type { QPUDetailWidget } from './views/detail';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { FleetPanel } from './views/panel';

/**
 * The plugin id; also the key of its settings in schema/plugin.json.
 */
export const PLUGIN_ID = 'qiskit-connector-lab:plugin';

/**
 * The id of the left-sidebar panel.
 */
export const SIDEBAR_ID = 'qiskit-connector-lab-sidebar';

/**
 * The qiskit-connector-lab frontend plugin: the QPU sidebar, the detail view
 * and the commands. Only JupyterFrontEnd is required, so it runs in
 * JupyterLab and Notebook 7 alike.
 */
const plugin: JupyterFrontEndPlugin<IQPUFleetModel> = {
  id: PLUGIN_ID,
  description:
    'A sidebar of IBM Quantum QPUs: live queues, processor art and a backend picker for %qconnect.',
  autoStart: true,
  provides: IQPUFleetModel,
  optional: [
    ISettingRegistry,
    ITranslator,
    ICommandPalette,
    INotebookTracker,
    ILabShell,
    ILayoutRestorer
  ],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null
  ): IQPUFleetModel => {
    console.log('JupyterLab extension qiskit-connector-lab is activated!');
    const trans = (translator ?? nullTranslator).load('qiskit_connector_lab');
    const { commands, shell } = app;

    const model = new QPUFleetModel({
      client: new QPUClient({
        serverSettings: app.serviceManager.serverSettings
      }),
      interval: DEFAULT_INTERVAL
    });

    const sidebar = new FleetPanel({
      id: SIDEBAR_ID,
      model,
      trans,
      onOpen: name => void commands.execute(CommandIDs.showDetail, { name })
    });
    shell.add(sidebar, 'left', { rank: 900 });
    restorer?.add(sidebar, SIDEBAR_ID);

    const tracker = new WidgetTracker<MainAreaWidget<QPUDetailWidget>>({
      namespace: 'qiskit-connector-lab-qpu'
    });

    /**
     * The QPU a command acts on: its `name` argument, else the QPU of the
     * detail view in focus (or shown in the sidebar).
     */
    const currentName = (args: ReadonlyPartialJSONObject): string | null => {
      if (isBackendName(args.name)) {
        return args.name;
      }
      const inSidebar = sidebar.detail as QPUDetailWidget | null;
      if (inSidebar && !inSidebar.isDisposed && inSidebar.isVisible) {
        return inSidebar.name;
      }
      const current = tracker.currentWidget;
      if (current && !current.isDisposed) {
        return current.content.name;
      }
      return null;
    };

    /**
     * As `currentName`, else ask which QPU (least busy first).
     */
    const resolveName = async (
      args: ReadonlyPartialJSONObject,
      title: string
    ): Promise<string | null> => {
      const known = currentName(args);
      if (known) {
        return known;
      }
      let names: string[];
      try {
        names = (await model.ensureQpus()).map(q => q.name);
      } catch (reason) {
        Notification.error(
          trans.__('Cannot list the QPUs: %1', toFleetError(reason).message)
        );
        return null;
      }
      if (names.length === 0) {
        Notification.warning(trans.__('There is no QPU to choose.'));
        return null;
      }
      const selected = model.selection?.backend;
      const result = await InputDialog.getItem({
        title,
        label: trans.__('QPU (least busy first)'),
        items: names,
        current: selected && names.includes(selected) ? selected : names[0]
      });
      return result.button.accept && result.value ? result.value : null;
    };

    commands.addCommand(CommandIDs.open, {
      label: trans.__('Show IBM Quantum QPUs'),
      caption: trans.__('Open the IBM Quantum QPU sidebar'),
      icon: args => (args.isPalette ? undefined : qpuIcon),
      describedBy: { args: NO_ARGS_SCHEMA },
      execute: () => {
        shell.activateById(SIDEBAR_ID);
      }
    });

    commands.addCommand(CommandIDs.refresh, {
      label: trans.__('Refresh QPU List'),
      caption: trans.__('Ask the server for the QPUs and their queues now'),
      describedBy: { args: NO_ARGS_SCHEMA },
      execute: () => model.refresh()
    });

    commands.addCommand(CommandIDs.showDetail, {
      label: args =>
        isBackendName(args.name)
          ? trans.__('Show QPU %1', args.name)
          : trans.__('Show a QPU…'),
      caption: trans.__('Show a QPU: its chip, calibration and queue'),
      describedBy: { args: QPU_ARGS_SCHEMA },
      execute: async args => {
        const name = isBackendName(args.name)
          ? args.name
          : await resolveName({}, trans.__('Show a QPU'));
        if (!name) {
          return;
        }
        // The detail view (chip art, sparkline) loads when first used.
        const { QPUDetailWidget } = await import('./views/detail');
        const detailOptions = {
          model,
          name,
          trans,
          onUse: (n: string) => commands.execute(CommandIDs.use, { name: n }),
          onInsert: (n: string) =>
            commands.execute(CommandIDs.insertCell, { name: n })
        };
        if (!labShell) {
          // Notebook 7: the main area holds the document; show it in place.
          const widget = new QPUDetailWidget({
            ...detailOptions,
            id: `${detailId(name)}-side`,
            onBack: () => sidebar.closeDetail()
          });
          sidebar.showDetail(widget);
          shell.activateById(SIDEBAR_ID);
          return widget;
        }
        const id = detailId(name);
        const open = tracker.find(w => w.id === id);
        if (open) {
          shell.activateById(id);
          return open;
        }
        const content = new QPUDetailWidget({
          ...detailOptions,
          id: `${id}-content`
        });
        const widget = new MainAreaWidget({ content });
        widget.id = id;
        widget.addClass('jp-QiskitConnectorLab-detailPanel');
        widget.title.label = name;
        widget.title.icon = qpuIcon;
        widget.title.caption = trans.__('QPU %1', name);
        widget.title.closable = true;
        void tracker.add(widget);
        shell.add(widget, 'main');
        shell.activateById(id);
        return widget;
      }
    });

    commands.addCommand(CommandIDs.use, {
      label: trans.__('Use this QPU'),
      caption: trans.__('Store the QPU that a bare %%qconnect connects to'),
      describedBy: { args: QPU_ARGS_SCHEMA },
      execute: async args => {
        const name = await resolveName(args, trans.__('Use this QPU'));
        if (!name) {
          return null;
        }
        try {
          const selection = await model.select(name);
          Notification.success(
            trans.__('A bare %%qconnect now uses %1.', name),
            { autoClose: 4000 }
          );
          return selection;
        } catch (reason) {
          const error = toFleetError(reason);
          Notification.error(
            trans.__('Cannot use %1: %2', name, error.message),
            { autoClose: 8000 }
          );
          return null;
        }
      }
    });

    commands.addCommand(CommandIDs.insertCell, {
      label: trans.__('Insert connect cell'),
      caption: trans.__(
        'Insert a %%load_ext + %%qconnect cell into the active notebook'
      ),
      describedBy: { args: QPU_ARGS_SCHEMA },
      execute: async args => {
        const panel = notebooks?.currentWidget;
        if (!panel) {
          Notification.warning(
            trans.__('Open a notebook to insert the connect cell into.'),
            { autoClose: 5000 }
          );
          return null;
        }
        const name = await resolveName(args, trans.__('Insert connect cell'));
        if (!name) {
          return null;
        }
        insertConnectCell(panel.content, name);
        shell.activateById(panel.id);
        return name;
      }
    });

    if (palette) {
      for (const command of [
        CommandIDs.open,
        CommandIDs.refresh,
        CommandIDs.showDetail,
        CommandIDs.use,
        CommandIDs.insertCell
      ]) {
        palette.addItem({ command, category: PALETTE_CATEGORY });
      }
    }

    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.showDetail,
        args: widget => ({ name: widget.content.name }),
        name: widget => widget.content.name
      });
    }

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () => {
            const seconds = settings.get('refreshInterval').composite as number;
            if (typeof seconds === 'number' && seconds > 0) {
              model.interval = seconds * 1000;
            }
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.error(
            'Failed to load settings for qiskit-connector-lab.',
            reason
          );
        });
    }

    return model;
  }
};

/**
 * Put the connect cell into a notebook: into the active cell if it is an
 * empty code cell, else into a new code cell below it.
 */
export function insertConnectCell(
  notebook: Parameters<typeof NotebookActions.insertBelow>[0],
  name: string | null
): void {
  const active = notebook.activeCell;
  const reuse =
    active &&
    active.model.type === 'code' &&
    active.model.sharedModel.getSource().trim() === '';
  if (!reuse) {
    NotebookActions.insertBelow(notebook);
  }
  if (notebook.activeCell && notebook.activeCell.model.type !== 'code') {
    NotebookActions.changeCellType(notebook, 'code');
  }
  notebook.activeCell?.model.sharedModel.setSource(connectCellSource(name));
}

export default [plugin, jobsPlugin];
