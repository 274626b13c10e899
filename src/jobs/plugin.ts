import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { loadsExtension, PALETTE_CATEGORY } from '../commands';
// The settings are followed from activation on.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { followSeconds } from '../polling';
import { toRequestError } from '../request';
import { IQPUListModel } from '../tokens';
// The jobs model and sidebar are built at activation: no lazy import.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { JobsClient } from './client';
import {
  isJobId,
  JOB_ARGS_SCHEMA,
  JobCommandIDs,
  jobCellSource
} from './commands';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { DEFAULT_JOBS_INTERVAL, JobsModel } from './model';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { JobsPanel } from './panel';

/**
 * The plugin id of the Jobs view.
 */
export const JOBS_PLUGIN_ID = 'qiskit-connector-lab:jobs';

/**
 * The id of the Jobs sidebar.
 */
export const JOBS_SIDEBAR_ID = 'qiskit-connector-lab-jobs';

/**
 * The settings of the main plugin (the refresh interval is shared).
 */
const MAIN_PLUGIN_ID = 'qiskit-connector-lab:plugin';

/**
 * The Jobs view: a sidebar tab beside the QPU list, its commands, and a
 * notification when a job this browser saw pending finishes.
 */
export const jobsPlugin: JupyterFrontEndPlugin<void> = {
  id: JOBS_PLUGIN_ID,
  description: 'See, follow and cancel your quantum jobs.',
  autoStart: true,
  requires: [IQPUListModel],
  optional: [
    ISettingRegistry,
    ITranslator,
    ICommandPalette,
    INotebookTracker,
    ILayoutRestorer
  ],
  activate: (
    app: JupyterFrontEnd,
    qpuModel: IQPUListModel,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('qiskit_connector_lab');
    const { commands, shell } = app;
    const model = new JobsModel({
      client: new JobsClient(app.serviceManager.serverSettings),
      interval: DEFAULT_JOBS_INTERVAL
    });
    const queueOf = (qpu: string): number | null => {
      const found = qpuModel.qpus.find(q => q.name === qpu);
      return found && typeof found.queue === 'number' ? found.queue : null;
    };
    // The QPU model polls while one of its views is visible; the Jobs panel
    // counts as one (it shows each queued job's QPU queue).
    const qpuViews = qpuModel as Partial<{
      setViewVisible(view: string, visible: boolean): void;
    }>;
    const panel = new JobsPanel({
      id: JOBS_SIDEBAR_ID,
      onVisible: visible =>
        qpuViews.setViewVisible?.call(qpuModel, JOBS_SIDEBAR_ID, visible),
      model,
      trans,
      queueOf,
      onOpen: id => void commands.execute(JobCommandIDs.show, { id })
    });
    shell.add(panel, 'left', { rank: 901 });
    restorer?.add(panel, JOBS_SIDEBAR_ID);
    // The queues shown next to queued jobs: refresh them when the list changes.
    qpuModel.changed.connect(() => panel.jobs.update());

    model.finished.connect((_, job) => {
      const failed = job.status === 'ERROR';
      const message =
        job.status === 'DONE'
          ? trans.__('Job %1 on %2 is done.', job.id, job.qpu)
          : job.status === 'CANCELLED'
            ? trans.__('Job %1 on %2 was cancelled.', job.id, job.qpu)
            : trans.__('Job %1 on %2 failed.', job.id, job.qpu);
      const options = {
        autoClose: failed ? (false as const) : 10_000,
        actions: [
          {
            label: trans.__('Show job'),
            callback: () =>
              void commands.execute(JobCommandIDs.show, { id: job.id })
          }
        ]
      };
      if (failed) {
        Notification.error(message, options);
      } else if (job.status === 'DONE') {
        Notification.success(message, options);
      } else {
        Notification.info(message, options);
      }
    });

    commands.addCommand(JobCommandIDs.open, {
      label: trans.__('Show Quantum Jobs'),
      caption: trans.__('Open the sidebar of your quantum jobs'),
      describedBy: { args: { type: 'object', properties: {} } },
      execute: () => {
        panel.closeDetail(false);
        shell.activateById(JOBS_SIDEBAR_ID);
      }
    });

    commands.addCommand(JobCommandIDs.refresh, {
      label: trans.__('Refresh Jobs'),
      caption: trans.__('Ask the server for your jobs now'),
      describedBy: { args: { type: 'object', properties: {} } },
      execute: () => model.refresh()
    });

    commands.addCommand(JobCommandIDs.show, {
      label: args =>
        isJobId(args.id)
          ? trans.__('Show Job %1', args.id)
          : trans.__('Show Job'),
      describedBy: { args: JOB_ARGS_SCHEMA },
      isEnabled: args => isJobId(args.id),
      execute: async args => {
        if (!isJobId(args.id)) {
          return null;
        }
        const { JobDetailView } = await import('./views');
        const detail = new JobDetailView({
          id: args.id,
          model,
          trans,
          onBack: () => panel.closeDetail(),
          onCancel: id =>
            commands.execute(JobCommandIDs.cancel, { id }) as Promise<boolean>,
          onInsert: id =>
            void commands.execute(JobCommandIDs.insertCell, { id })
        });
        panel.showDetail(detail);
        shell.activateById(JOBS_SIDEBAR_ID);
        return detail;
      }
    });

    commands.addCommand(JobCommandIDs.cancel, {
      label: trans.__('Cancel Job…'),
      describedBy: { args: JOB_ARGS_SCHEMA },
      isEnabled: args => isJobId(args.id),
      execute: async args => {
        if (!isJobId(args.id)) {
          return false;
        }
        const id = args.id;
        const answer = await showDialog({
          title: trans.__('Cancel job %1?', id),
          body: trans.__(
            'A cancelled job does not run, and cannot be resumed. Its queue place is lost.'
          ),
          buttons: [
            Dialog.cancelButton({ label: trans.__('Keep the job') }),
            Dialog.warnButton({ label: trans.__('Cancel the job') })
          ]
        });
        if (!answer.button.accept) {
          return false;
        }
        try {
          // One notice per cancel: a job cancelled at once is no longer
          // followed (no second notice when the list shows it cancelled);
          // one that is still stopping is notified when it has.
          const status = await model.cancel(id);
          Notification.info(
            status === 'CANCELLED'
              ? trans.__('Job %1 was cancelled.', id)
              : trans.__(
                  'Job %1 is being cancelled; you will be told when it has stopped.',
                  id
                ),
            { autoClose: 5000 }
          );
          return true;
        } catch (reason) {
          Notification.error(
            trans.__(
              'Cannot cancel job %1: %2',
              id,
              toRequestError(reason).message
            ),
            { autoClose: 8000 }
          );
          return false;
        }
      }
    });

    commands.addCommand(JobCommandIDs.insertCell, {
      label: trans.__('Insert Job Cell'),
      caption: trans.__(
        'Insert a cell that gets the job into the active notebook'
      ),
      describedBy: { args: JOB_ARGS_SCHEMA },
      isEnabled: args => isJobId(args.id),
      execute: args => {
        const notebook = notebooks?.currentWidget;
        if (!isJobId(args.id)) {
          return null;
        }
        if (!notebook) {
          Notification.warning(
            trans.__('Open a notebook to insert the job cell into.'),
            { autoClose: 5000 }
          );
          return null;
        }
        const content = notebook.content;
        const loaded = loadsExtension(
          (content.widgets ?? []).map(cell =>
            cell.model.sharedModel.getSource()
          )
        );
        NotebookActions.insertBelow(content);
        content.activeCell?.model.sharedModel.setSource(
          jobCellSource(args.id, loaded)
        );
        shell.activateById(notebook.id);
        return args.id;
      }
    });

    if (palette) {
      for (const command of [JobCommandIDs.open, JobCommandIDs.refresh]) {
        palette.addItem({ command, category: PALETTE_CATEGORY });
      }
    }

    if (settingRegistry) {
      followSeconds(settingRegistry, MAIN_PLUGIN_ID, {
        refreshInterval: ms => (model.interval = ms),
        pendingJobsInterval: ms => (model.pendingInterval = ms)
      }).catch(() => undefined);
    }
  }
};
