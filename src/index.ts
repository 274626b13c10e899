import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { qpuIcon } from './icons';

/**
 * The plugin id; also the key of its settings in schema/plugin.json.
 */
export const PLUGIN_ID = 'qiskit-connector-lab:plugin';

/**
 * The id of the left-sidebar panel.
 */
export const SIDEBAR_ID = 'qiskit-connector-lab-sidebar';

/**
 * A placeholder sidebar panel; the QPU list will replace its content.
 */
function createSidebar(trans: TranslationBundle): Widget {
  const widget = new Widget();
  widget.id = SIDEBAR_ID;
  widget.addClass('jp-QiskitConnectorLab-sidebar');
  widget.title.icon = qpuIcon;
  widget.title.caption = trans.__('IBM Quantum QPUs');

  const heading = document.createElement('h2');
  heading.className = 'jp-QiskitConnectorLab-heading';
  heading.textContent = trans.__('IBM Quantum QPUs');
  const body = document.createElement('p');
  body.className = 'jp-QiskitConnectorLab-placeholder';
  body.textContent = trans.__('No QPU data yet.');
  widget.node.append(heading, body);
  return widget;
}

/**
 * The qiskit-connector-lab frontend plugin.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'A JupyterLab sidebar listing IBM Quantum QPUs.',
  autoStart: true,
  optional: [ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ) => {
    console.log('JupyterLab extension qiskit-connector-lab is activated!');
    const trans = (translator ?? nullTranslator).load('qiskit_connector_lab');

    const sidebar = createSidebar(trans);
    app.shell.add(sidebar, 'left', { rank: 900 });

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const interval = settings.get('refreshInterval').composite as number;
          console.debug(`qiskit-connector-lab: refresh interval ${interval} s`);
        })
        .catch(reason => {
          console.error(
            'Failed to load settings for qiskit-connector-lab.',
            reason
          );
        });
    }
  }
};

export default plugin;
