import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Dialog, ICommandPalette, showDialog } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { NO_ARGS_SCHEMA, PALETTE_CATEGORY } from '../commands';
import { IQPUListModel } from '../tokens';
// The account section is built at activation: no lazy import.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { AccountClient } from './client';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { AccountModel } from './model';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { AccountSection } from './view';

/**
 * The plugin id of the sign-in section.
 */
export const ACCOUNT_PLUGIN_ID = 'qiskit-connector-lab:account';

/**
 * The QPU sidebar's id (`index.ts`), where the section goes.
 */
const SIDEBAR_ID = 'qiskit-connector-lab-sidebar';

export namespace AccountCommandIDs {
  export const signIn = 'qiskit-connector-lab:sign-in';
  export const signOut = 'qiskit-connector-lab:sign-out';
}

/**
 * A panel that takes sections (the QPU sidebar, `QPUPanel.addSection`).
 */
interface ISectionHost extends Widget {
  addSection(widget: Widget): void;
  insertWidget(index: number, widget: Widget): void;
}

function findSidebar(app: JupyterFrontEnd): ISectionHost | null {
  for (const widget of app.shell.widgets('left')) {
    const host = widget as unknown as Partial<ISectionHost>;
    if (widget.id === SIDEBAR_ID && typeof host.addSection === 'function') {
      return widget as unknown as ISectionHost;
    }
  }
  return null;
}

/**
 * Sign in to IBM Quantum from the sidebar: paste the API key once, pick an
 * instance; the QPU list switches to IBM's QPUs with no reload.
 */
export const accountPlugin: JupyterFrontEndPlugin<void> = {
  id: ACCOUNT_PLUGIN_ID,
  description:
    'Sign in to IBM Quantum with an API key, choose an instance, sign out.',
  autoStart: true,
  requires: [IQPUListModel],
  optional: [ITranslator, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    qpus: IQPUListModel,
    translator: ITranslator | null,
    palette: ICommandPalette | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('qiskit_connector_lab');
    const model = new AccountModel({
      client: new AccountClient(app.serviceManager.serverSettings),
      onChange: () => qpus.refresh()
    });
    const section = new AccountSection({
      model,
      trans,
      confirm: async (title, body) => {
        const result = await showDialog({
          title,
          body,
          buttons: [
            Dialog.cancelButton(),
            Dialog.warnButton({ label: trans.__('Sign out') })
          ]
        });
        return result.button.accept;
      }
    });
    const sidebar = findSidebar(app);
    if (sidebar) {
      sidebar.addSection(section);
      sidebar.insertWidget(0, section); // above the plan header
    }
    void model.refresh();

    app.commands.addCommand(AccountCommandIDs.signIn, {
      label: trans.__('Sign in to IBM Quantum'),
      describedBy: { args: NO_ARGS_SCHEMA },
      caption: trans.__(
        'Paste an IBM Quantum API key and choose an instance: no file to edit'
      ),
      execute: async () => {
        if (sidebar) {
          app.shell.activateById(sidebar.id);
        }
        await section.openForm();
      }
    });
    app.commands.addCommand(AccountCommandIDs.signOut, {
      label: trans.__('Sign out of IBM Quantum'),
      describedBy: { args: NO_ARGS_SCHEMA },
      isEnabled: () => !!model.status?.signed_in,
      execute: () =>
        section.node
          .querySelector<HTMLButtonElement>('.jp-QiskitConnectorLab-signOut')
          ?.click()
    });
    model.changed.connect(() => app.commands.notifyCommandChanged());
    if (palette) {
      for (const command of [
        AccountCommandIDs.signIn,
        AccountCommandIDs.signOut
      ]) {
        palette.addItem({ command, category: PALETTE_CATEGORY });
      }
    }
  }
};
