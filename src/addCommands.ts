/**
 * The commands of the extension: registered here, out of the plugin's
 * `activate`, against the model's interface.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  ICommandPalette,
  InputDialog,
  MainAreaWidget,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import {
  CommandIDs,
  connectCellSource,
  detailId,
  isQPUName,
  loadsExtension,
  NO_ARGS_SCHEMA,
  PALETTE_CATEGORY,
  QPU_ARGS_SCHEMA
} from './commands';
import { qpuIcon } from './icons';
import { toRequestError } from './request';
import { IQPUListModel } from './tokens';
import type { QPUDetailWidget } from './views/detail';
import type { QPUPanel } from './views/panel';

/**
 * What the commands act on.
 */
export interface ICommandContext {
  app: JupyterFrontEnd;
  model: IQPUListModel;
  sidebar: QPUPanel;
  /**
   * The id of the sidebar, to show it.
   */
  sidebarId: string;
  /**
   * The detail views in the main area (JupyterLab).
   */
  tracker: WidgetTracker<MainAreaWidget<QPUDetailWidget>>;
  trans: TranslationBundle;
  /**
   * Whether the main area takes a detail view beside the documents
   * (JupyterLab: true; Notebook 7: false, the detail replaces the list).
   */
  mainAreaDetails: boolean;
  palette: ICommandPalette | null;
  notebooks: INotebookTracker | null;
}

/**
 * Add the commands, and those meant for the palette to it.
 */
export function registerCommands(context: ICommandContext): void {
  const { app, model, sidebar, sidebarId, tracker, trans } = context;
  const { commands, shell } = app;

  /**
   * The QPU a command acts on: its `name` argument, else the QPU of the
   * active detail view (never a background one); null to ask.
   */
  const activeName = (args: ReadonlyPartialJSONObject): string | null => {
    if (isQPUName(args.name)) {
      return args.name;
    }
    const inSidebar = sidebar.detail as QPUDetailWidget | null;
    if (inSidebar && !inSidebar.isDisposed && inSidebar.isVisible) {
      return inSidebar.name;
    }
    const current = tracker.currentWidget;
    if (current && !current.isDisposed && shell.currentWidget === current) {
      return current.content.name;
    }
    return null;
  };

  /**
   * As `activeName`, else ask which QPU (least busy first).
   */
  const resolveName = async (
    args: ReadonlyPartialJSONObject,
    title: string
  ): Promise<string | null> => {
    const known = activeName(args);
    if (known) {
      return known;
    }
    let names: string[];
    try {
      names = (await model.ensureQpus()).map(q => q.name);
    } catch (reason) {
      Notification.error(
        trans.__('Cannot list the QPUs: %1', toRequestError(reason).message)
      );
      return null;
    }
    if (names.length === 0) {
      Notification.warning(trans.__('There is no QPU to choose.'));
      return null;
    }
    const picked = model.pick?.qpu;
    const result = await InputDialog.getItem({
      title,
      label: trans.__('QPU (least busy first)'),
      items: names,
      current: picked && names.includes(picked) ? picked : names[0]
    });
    return result.button.accept && result.value ? result.value : null;
  };

  commands.addCommand(CommandIDs.open, {
    label: trans.__('Show IBM Quantum QPUs'),
    caption: trans.__('Open the IBM Quantum QPU sidebar'),
    icon: args => (args.isPalette ? undefined : qpuIcon),
    describedBy: { args: NO_ARGS_SCHEMA },
    execute: () => {
      shell.activateById(sidebarId);
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
      isQPUName(args.name)
        ? trans.__('Show QPU %1', args.name)
        : trans.__('Show a QPU…'),
    caption: trans.__('Show a QPU: its chip, calibration and queue'),
    describedBy: { args: QPU_ARGS_SCHEMA },
    execute: async args => {
      const name = isQPUName(args.name)
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
      if (!context.mainAreaDetails) {
        // Notebook 7: the main area holds the document; show it in place.
        const widget = new QPUDetailWidget({
          ...detailOptions,
          id: `${detailId(name)}-side`,
          onBack: () => sidebar.closeDetail()
        });
        sidebar.showDetail(widget);
        shell.activateById(sidebarId);
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
    caption: trans.__('Pick the QPU that a bare %%qconnect connects to'),
    describedBy: { args: QPU_ARGS_SCHEMA },
    execute: async args => {
      const name = await resolveName(args, trans.__('Use this QPU'));
      if (!name) {
        return null;
      }
      try {
        const pick = await model.setPick(name);
        Notification.success(trans.__('A bare %%qconnect now uses %1.', name), {
          autoClose: 4000
        });
        return pick;
      } catch (reason) {
        Notification.error(
          trans.__('Cannot use %1: %2', name, toRequestError(reason).message),
          { autoClose: 8000 }
        );
        return null;
      }
    }
  });

  commands.addCommand(CommandIDs.clearPick, {
    label: trans.__('Clear the QPU Pick'),
    caption: trans.__(
      'Forget the picked QPU: a bare %%qconnect takes the least busy one'
    ),
    describedBy: { args: NO_ARGS_SCHEMA },
    isEnabled: () => !!model.pick?.qpu,
    execute: async () => {
      try {
        return await model.setPick(null);
      } catch (reason) {
        Notification.error(
          trans.__('Cannot clear the pick: %1', toRequestError(reason).message),
          { autoClose: 8000 }
        );
        return null;
      }
    }
  });

  commands.addCommand(CommandIDs.insertCell, {
    label: trans.__('Insert connect cell'),
    caption: trans.__(
      'Insert a %%qconnect cell (with %%load_ext when needed) into the active notebook'
    ),
    describedBy: { args: QPU_ARGS_SCHEMA },
    execute: async args => {
      const panel = context.notebooks?.currentWidget;
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

  if (context.palette) {
    const items = [
      CommandIDs.refresh,
      CommandIDs.showDetail,
      CommandIDs.use,
      CommandIDs.clearPick,
      CommandIDs.insertCell
    ];
    if (context.mainAreaDetails) {
      // Notebook 7 lists a "Show …" command of its own for every side panel.
      items.unshift(CommandIDs.open);
    }
    for (const command of items) {
      context.palette.addItem({ command, category: PALETTE_CATEGORY });
    }
  }
}

/**
 * Put the connect cell into a notebook: into the active cell if it is an
 * empty code cell, else into a new code cell below it. `%load_ext` comes
 * only when no cell of the notebook loads the extension yet.
 */
export function insertConnectCell(
  notebook: Parameters<typeof NotebookActions.insertBelow>[0],
  name: string | null
): void {
  const sources = (notebook.widgets ?? []).map(cell =>
    cell.model.sharedModel.getSource()
  );
  const loaded = loadsExtension(sources);
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
  notebook.activeCell?.model.sharedModel.setSource(
    connectCellSource(name, loaded)
  );
}
