import { Message } from '@lumino/messaging';
import { Panel } from '@lumino/widgets';

import { jobsIcon } from '../icons';
import { cls } from '../views/dom';
import { JobsModel } from './model';
import { JobDetailView, JobsView } from './views';

/**
 * The Jobs sidebar: the list, or one job's detail in its place. It tells the
 * model when it is shown, so nothing is asked while nobody looks.
 */
export class JobsPanel extends Panel {
  constructor(options: JobsPanel.IOptions) {
    super();
    this._model = options.model;
    this._onVisible = options.onVisible ?? (() => undefined);
    this.id = options.id;
    this.addClass(cls('sidebar'));
    this.addClass(cls('jobsPanel'));
    // The tab's tooltip and its accessible name (the tab has no text).
    this.title.icon = jobsIcon;
    this.title.caption = options.trans.__('Quantum jobs');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', options.trans.__('Quantum jobs'));
    this.jobs = new JobsView(options);
    this.addWidget(this.jobs);
  }

  readonly jobs: JobsView;

  get detail(): JobDetailView | null {
    return this._detail;
  }

  showDetail(widget: JobDetailView): void {
    this.closeDetail(false);
    this._detail = widget;
    this.jobs.hide();
    this.addWidget(widget);
    widget.node.focus();
  }

  closeDetail(focus = true): void {
    const widget = this._detail;
    if (!widget) {
      return;
    }
    this._detail = null;
    widget.dispose();
    this.jobs.show();
    this.jobs.render();
    if (focus) {
      this.jobs.list.focusFirst();
    }
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._model.setViewVisible(this.id, true);
    this._onVisible(true);
    this.jobs.render();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._model.setViewVisible(this.id, false);
    this._onVisible(false);
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._model.setViewVisible(this.id, this.isVisible);
    this._onVisible(this.isVisible);
  }

  protected onBeforeDetach(msg: Message): void {
    this._model.setViewVisible(this.id, false);
    this._onVisible(false);
    super.onBeforeDetach(msg);
  }

  private _model: JobsModel;
  private _onVisible: (visible: boolean) => void;
  private _detail: JobDetailView | null = null;
}

export namespace JobsPanel {
  export interface IOptions extends JobsView.IOptions {
    id: string;
    /**
     * Called when the panel is shown or hidden (the QPU queues shown next to
     * queued jobs are polled while it is shown).
     */
    onVisible?: (visible: boolean) => void;
  }
}
