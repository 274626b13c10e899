import { TranslationBundle } from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { Panel, Widget } from '@lumino/widgets';

import { qpuIcon } from '../icons';
import { BannerView } from './banner';
import { cls, h, replaceChildren } from './dom';
import { HeaderView } from './header';
import { FilterView, filterQpus, IQPUFilter, ListView } from './list';
import { IQPUListModel } from '../tokens';

/**
 * The list part of the sidebar: header (plan, instance, Local fleet badge,
 * refresh), banner (loading / error / stale, Retry), filters and the QPU
 * rows.
 */
export class QPUsView extends Widget {
  constructor(options: QPUsView.IOptions) {
    super();
    this.addClass(cls('qpus'));
    this._model = options.model;
    const trans = options.trans;
    this._trans = trans;
    this.header = new HeaderView(options.model, trans);
    this.banner = new BannerView(options.model, trans);
    this.filters = new FilterView(trans, () => this.update());
    this.list = new ListView(trans, options.onOpen);
    this._clear = h(
      'button',
      {
        type: 'button',
        class: cls('jp-Button', 'linkButton', 'clearPick'),
        title: trans.__(
          'Forget the pick: a bare %%qconnect then takes the least busy QPU'
        ),
        onclick: () => void this._clearPick()
      },
      trans.__('Clear')
    );
    this._pickBar = h(
      'div',
      { class: cls('pickBar'), 'aria-live': 'polite' },
      this._pickText,
      ' ',
      this._clear
    );
    this._notes.setAttribute('aria-live', 'polite');
    this.node.append(
      this.header.node,
      this.banner.node,
      this._notes,
      this._pickBar,
      this.filters.node,
      this.list.node,
      this._count
    );
    this._count.setAttribute('aria-live', 'polite');
    this._model.changed.connect(this.update, this);
    this._model.pickChanged.connect(this.update, this);
  }

  readonly header: HeaderView;
  readonly banner: BannerView;
  readonly filters: FilterView;
  readonly list: ListView;

  get filter(): IQPUFilter {
    return this.filters.filter;
  }

  protected onUpdateRequest(msg: Message): void {
    this.render();
  }

  /**
   * Render now (the panel otherwise renders on the next animation frame).
   */
  render(now: number = Date.now()): void {
    const model = this._model;
    this.header.update(now);
    this.banner.update(now);
    // What the server says about the listing (e.g. that it lists with the student's own key, the class's QPU
    // service being down): one line each.
    const notes = model.listing?.notes ?? [];
    this._notes.hidden = notes.length === 0;
    replaceChildren(this._notes, ...notes.map(note => h('li', {}, note)));
    const all = model.qpus;
    const shown = filterQpus(all, this.filters.filter);
    const pick = model.pick;
    this._pickBar.hidden = !pick?.qpu;
    this._pickText.textContent = pick?.qpu
      ? this._trans.__('A bare %%qconnect uses %1, picked here.', pick.qpu)
      : '';
    this.list.update(shown, {
      pick,
      total: all.length,
      phase: model.phase
    });
    this._count.textContent =
      model.phase === 'ready' && all.length > 0
        ? shown.length === all.length
          ? this._trans._n('%1 QPU', '%1 QPUs', all.length)
          : `${shown.length} / ${all.length}`
        : '';
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.render();
  }

  private _notes = h('ul', { class: cls('listingNotes') });

  private async _clearPick(): Promise<void> {
    this._clear.disabled = true;
    try {
      await this._model.setPick(null);
    } catch (reason) {
      this._pickText.textContent = this._trans.__(
        'Cannot clear the pick: %1',
        (reason as Error)?.message ?? String(reason)
      );
    } finally {
      this._clear.disabled = false;
    }
  }

  private _trans: TranslationBundle;
  private _model: IQPUListModel;
  private _count = h('div', { class: cls('count') });
  private _pickText = h('span', { class: cls('pickText') });
  private _pickBar: HTMLElement;
  private _clear: HTMLButtonElement;
}

export namespace QPUsView {
  export interface IOptions {
    model: IQPUListModel;
    trans: TranslationBundle;
    /**
     * Open the detail of a QPU.
     */
    onOpen: (name: string) => void;
  }
}

/**
 * The left-sidebar panel. It shows the fleet; where the main area cannot take
 * another widget (Notebook 7) a QPU's detail replaces the list in place, with
 * a Back button. It tells the model when it is shown or hidden, so the poll
 * stands by while nobody looks.
 */
export class QPUPanel extends Panel {
  constructor(options: QPUPanel.IOptions) {
    super();
    this._model = options.model;
    this.id = options.id;
    this.addClass(cls('sidebar'));
    // The tab's tooltip and its accessible name (the tab has no text).
    this.title.icon = qpuIcon;
    this.title.caption = options.trans.__('IBM Quantum QPUs');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', options.trans.__('IBM Quantum QPUs'));
    this.qpuView = new QPUsView({
      model: options.model,
      trans: options.trans,
      onOpen: options.onOpen
    });
    this.addWidget(this.qpuView);
  }

  readonly qpuView: QPUsView;

  /**
   * Add another view below the QPU list (e.g. the jobs), in the same
   * sidebar; it is hidden with the list while a detail replaces it.
   */
  addSection(widget: Widget): void {
    this._sections.push(widget);
    this.addWidget(widget);
  }

  /**
   * The detail shown in place of the list, if any.
   */
  get detail(): Widget | null {
    return this._detail;
  }

  /**
   * Show a widget in place of the list (Notebook 7).
   */
  showDetail(widget: Widget): void {
    this.closeDetail();
    this._detail = widget;
    widget.disposed.connect(this._onDetailDisposed, this);
    this.qpuView.hide();
    this._sections.forEach(section => section.hide());
    this.addWidget(widget);
  }

  /**
   * Go back to the list.
   */
  closeDetail(): void {
    const widget = this._detail;
    if (!widget) {
      return;
    }
    this._detail = null;
    widget.disposed.disconnect(this._onDetailDisposed, this);
    widget.dispose();
    this.qpuView.show();
    this._sections.forEach(section => section.show());
    this.qpuView.list.focusFirst();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._model.setViewVisible(this.id, true);
    this.qpuView.render();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._model.setViewVisible(this.id, false);
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._model.setViewVisible(this.id, this.isVisible);
  }

  protected onBeforeDetach(msg: Message): void {
    this._model.setViewVisible(this.id, false);
    super.onBeforeDetach(msg);
  }

  private _onDetailDisposed(): void {
    this._detail = null;
    this.qpuView.show();
    this._sections.forEach(section => section.show());
  }

  private _model: IQPUListModel;
  private _detail: Widget | null = null;
  private _sections: Widget[] = [];
}

export namespace QPUPanel {
  export interface IOptions {
    id: string;
    model: IQPUListModel;
    trans: TranslationBundle;
    onOpen: (name: string) => void;
  }
}
