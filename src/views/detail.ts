import { TranslationBundle } from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { detailId } from '../commands';
import { formatError, formatMicroseconds, sparkline } from '../art';
import { formatQueueLength } from '../format';
import { toRequestError } from '../request';
import { IQPUListModel } from '../tokens';
import { IQPUDetail, IRequestError } from '../wire';
import { ChipView } from './chip';
import { cls, h, replaceChildren, svg } from './dom';
import { processorLabel, statusText } from './list';

/**
 * The detail of one QPU: its chip, queue history, calibration medians and
 * basis gates, with "Use this QPU" and "Insert connect cell".
 *
 * It asks the server again when the fleet listing changes (the fleet model's
 * poll drives it), and keeps that poll awake while it is visible.
 */
export class QPUDetailWidget extends Widget {
  constructor(options: QPUDetailWidget.IOptions) {
    super();
    this._model = options.model;
    this._trans = options.trans;
    this._name = options.name;
    this._onUse = options.onUse;
    this._onInsert = options.onInsert;
    const trans = this._trans;
    this.addClass(cls('detail'));
    this.id = options.id ?? QPUDetailWidget.idFor(options.name);
    this.title.label = options.name;
    this.title.caption = trans.__('QPU %1', options.name);
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', trans.__('QPU %1', options.name));
    this.node.dataset.qpu = options.name;

    this._chip = new ChipView(trans);
    this._useButton = h(
      'button',
      {
        type: 'button',
        class: cls('jp-Button', 'action', 'useButton'),
        'aria-pressed': 'false',
        onclick: () => void this._use()
      },
      trans.__('Use this QPU')
    );
    this._insertButton = h(
      'button',
      {
        type: 'button',
        class: cls('jp-Button', 'action', 'insertButton'),
        onclick: () => void this._onInsert(this._name)
      },
      trans.__('Insert connect cell')
    );
    this._useButton.title = trans.__(
      'Store %1 as the QPU a bare %%qconnect uses',
      options.name
    );
    this._insertButton.title = trans.__(
      'Insert a cell that connects to %1 into the active notebook',
      options.name
    );

    const header = h(
      'header',
      { class: cls('detailHeader') },
      options.onBack
        ? h(
            'button',
            {
              type: 'button',
              class: cls('jp-Button', 'back'),
              'aria-label': trans.__('Back to the QPU list'),
              onclick: () => options.onBack?.()
            },
            '←'
          )
        : null,
      h('h2', { class: cls('detailTitle') }, options.name),
      this._facts
    );
    this.node.append(
      header,
      this._status,
      h(
        'div',
        {
          class: cls('actions'),
          role: 'group',
          'aria-label': trans.__('Actions')
        },
        this._useButton,
        this._insertButton,
        this._pickNote
      ),
      h(
        'div',
        { class: cls('detailBody') },
        h(
          'section',
          {
            class: cls('section', 'chipSection'),
            'aria-label': trans.__('Processor art')
          },
          h('h3', { class: cls('sectionTitle') }, trans.__('Processor')),
          this._chip.node
        ),
        h(
          'div',
          { class: cls('detailSide') },
          h(
            'section',
            { class: cls('section'), 'aria-label': trans.__('Queue history') },
            h('h3', { class: cls('sectionTitle') }, trans.__('Queue')),
            this._spark
          ),
          h(
            'section',
            { class: cls('section'), 'aria-label': trans.__('Calibration') },
            h('h3', { class: cls('sectionTitle') }, trans.__('Calibration')),
            this._calibration
          )
        )
      )
    );
    this._model.changed.connect(this._onModelChanged, this);
    this._model.pickChanged.connect(this._renderPick, this);
    this._renderStatus();
    this._renderPick();
  }

  /**
   * The QPU shown.
   */
  get name(): string {
    return this._name;
  }

  /**
   * The detail shown, null before it arrives.
   */
  get detail(): IQPUDetail | null {
    return this._detail;
  }

  get chip(): ChipView {
    return this._chip;
  }

  /**
   * Ask the server for the detail again.
   */
  async reload(): Promise<void> {
    if (this._loading) {
      return this._loading;
    }
    this._loading = (async () => {
      this._listingStamp = this._model.listing?.fetched_at ?? null;
      this._renderStatus();
      try {
        const detail = await this._model.detail(this._name);
        if (this.isDisposed) {
          return;
        }
        this._detail = detail;
        this._error = null;
        this._render();
      } catch (reason) {
        if (this.isDisposed) {
          return;
        }
        this._error = toRequestError(reason);
      } finally {
        this._loading = null;
        if (!this.isDisposed) {
          this._renderStatus();
        }
      }
    })();
    return this._loading;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.setViewVisible(this.id, false);
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (!this._detail && !this._loading) {
      void this.reload();
    }
    this._model.setViewVisible(this.id, this.isVisible);
  }

  protected onBeforeDetach(msg: Message): void {
    this._model.setViewVisible(this.id, false);
    super.onBeforeDetach(msg);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._model.setViewVisible(this.id, true);
    if (
      !this._loading &&
      (this._error ||
        (this._model.listing?.fetched_at ?? null) !== this._listingStamp)
    ) {
      void this.reload();
    }
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._model.setViewVisible(this.id, false);
  }

  private async _use(): Promise<void> {
    this._useButton.disabled = true;
    try {
      await this._onUse(this._name);
    } finally {
      this._useButton.disabled = false;
      this._renderPick();
    }
  }

  private _onModelChanged(): void {
    const stamp = this._model.listing?.fetched_at ?? null;
    if (stamp && stamp !== this._listingStamp && this.isVisible) {
      void this.reload();
    }
    this._renderLive();
  }

  private _renderStatus(): void {
    const trans = this._trans;
    const loading = !!this._loading;
    this.node.classList.toggle('jp-mod-loading', loading && !this._detail);
    if (this._error) {
      const retry = h(
        'button',
        {
          type: 'button',
          class: cls('jp-Button', 'retry'),
          onclick: () => void this.reload()
        },
        trans.__('Retry')
      );
      this._status.hidden = false;
      this._status.className = cls('banner', 'jp-mod-error');
      this._status.setAttribute('role', 'alert');
      replaceChildren(
        this._status,
        h(
          'div',
          { class: cls('bannerText') },
          h(
            'strong',
            {},
            this._detail
              ? trans.__('Cannot update %1.', this._name)
              : trans.__('Cannot load %1.', this._name)
          ),
          ' ',
          this._error.message,
          h('span', { class: cls('errorCode') }, ` (${this._error.code})`)
        ),
        h('div', { class: cls('bannerActions') }, retry)
      );
    } else if (!this._detail) {
      this._status.hidden = false;
      this._status.className = cls('banner', 'jp-mod-loading');
      this._status.setAttribute('role', 'status');
      replaceChildren(
        this._status,
        h('span', { class: cls('spinner'), 'aria-hidden': 'true' }),
        h(
          'span',
          { class: cls('bannerText') },
          trans.__('Loading %1…', this._name)
        )
      );
    } else {
      this._status.hidden = true;
      replaceChildren(this._status);
    }
  }

  private _renderPick(): void {
    const trans = this._trans;
    const picked = this._model.pick?.qpu === this._name;
    this._useButton.setAttribute('aria-pressed', String(picked));
    this._useButton.classList.toggle('jp-mod-active', picked);
    replaceChildren(
      this._pickNote,
      picked ? trans.__('A bare %%qconnect uses %1.', this._name) : null,
      picked ? ' ' : null,
      picked
        ? h(
            'button',
            {
              type: 'button',
              class: cls('jp-Button', 'linkButton', 'clearPick'),
              title: trans.__(
                'Forget the pick: a bare %%qconnect then takes the least busy QPU'
              ),
              onclick: () => void this._model.setPick(null)
            },
            trans.__('Clear')
          )
        : null
    );
  }

  /**
   * The parts that follow the fleet listing: status and queue.
   */
  private _renderLive(): void {
    const trans = this._trans;
    const summary = this._model.qpus.find(q => q.name === this._name);
    const detail = this._detail;
    const status = summary?.status ?? detail?.status;
    const queue = summary ? summary.queue : (detail?.queue ?? null);
    if (!status && !detail) {
      replaceChildren(this._facts);
      return;
    }
    const local = this._model.listing?.local ?? this._model.plan?.local;
    const facts: (HTMLElement | null)[] = [
      local
        ? h(
            'span',
            {
              class: cls('badge', 'localBadge'),
              title: trans.__(
                'A copy of the IBM processor, from qiskit-ibm-runtime’s snapshot; the queue is simulated.'
              )
            },
            trans.__('Local fleet')
          )
        : null,
      h(
        'span',
        { class: cls('fact', 'statusFact') },
        h('span', {
          class: cls('dot', `jp-mod-${status}`),
          'aria-hidden': 'true'
        }),
        statusText(
          trans,
          status ?? '',
          summary?.status_reason ?? detail?.status_reason
        )
      ),
      detail
        ? h(
            'span',
            { class: cls('fact') },
            trans._n('%1 qubit', '%1 qubits', detail.qubits)
          )
        : null,
      detail && processorLabel(detail)
        ? h('span', { class: cls('fact') }, processorLabel(detail))
        : null,
      detail?.version
        ? h('span', { class: cls('fact') }, trans.__('v%1', detail.version))
        : null,
      typeof detail?.clops === 'number' && detail.clops > 0
        ? h(
            'span',
            { class: cls('fact') },
            trans.__('%1 CLOPS', detail.clops.toLocaleString('en-US'))
          )
        : null,
      h(
        'span',
        { class: cls('fact', 'queueFact'), 'data-queue': queue ?? '' },
        trans.__('Queue: %1', formatQueueLength(queue))
      ),
      summary?.least_busy
        ? h(
            'span',
            { class: cls('badge', 'leastBusy') },
            trans.__('Least busy')
          )
        : null
    ];
    replaceChildren(this._facts, ...facts);
  }

  private _render(): void {
    const detail = this._detail;
    if (!detail) {
      return;
    }
    this._renderLive();
    this._chip.render(detail);
    this._renderSparkline(detail);
    this._renderCalibration(detail);
    this._renderPick();
  }

  private _renderSparkline(detail: IQPUDetail): void {
    const trans = this._trans;
    // A point whose queue the server did not know is left out.
    const history = (detail.queue_history ?? []).filter(
      (p): p is { t: string; queue: number } => typeof p.queue === 'number'
    );
    const width = 240;
    const height = 48;
    const line = sparkline(history, width, height, 3);
    if (!line) {
      replaceChildren(
        this._spark,
        h('p', { class: cls('muted') }, trans.__('No queue history yet.'))
      );
      return;
    }
    const times = history.map(p => Date.parse(p.t)).filter(isFinite);
    const seconds = Math.round(
      (Math.max(...times) - Math.min(...times)) / 1000
    );
    const span =
      seconds < 120
        ? trans.__('%1 s', seconds)
        : trans.__('%1 min', Math.round(seconds / 60));
    const label = trans.__(
      'Queue over the last %1: from %2 to %3 jobs, now %4',
      span,
      line.min,
      line.max,
      line.last
    );
    replaceChildren(
      this._spark,
      svg(
        'svg',
        {
          class: cls('sparkline'),
          viewBox: `0 0 ${width} ${height}`,
          preserveAspectRatio: 'none',
          role: 'img',
          'aria-label': label,
          'data-points': history.length
        },
        svg('title', {}, label),
        svg('path', { d: line.area, class: cls('sparkArea') }),
        svg('path', { d: line.line, class: cls('sparkLine') }),
        svg('circle', {
          cx: line.end.x,
          cy: line.end.y,
          r: 2.5,
          class: cls('sparkEnd')
        })
      ),
      h(
        'div',
        { class: cls('sparkCaption') },
        trans._n(
          '%1 point over %2 · min %3 · max %4 · now %5',
          '%1 points over %2 · min %3 · max %4 · now %5',
          history.length,
          span,
          line.min,
          line.max,
          line.last
        )
      )
    );
  }

  private _renderCalibration(detail: IQPUDetail): void {
    const trans = this._trans;
    const m = detail.medians ?? ({} as IQPUDetail['medians']);
    const gate = detail.two_qubit_gate
      ? trans.__('Median 2-qubit (%1) error', detail.two_qubit_gate)
      : trans.__('Median 2-qubit error');
    const rows: [string, string][] = [
      [trans.__('Median readout error'), formatError(m.readout_error)],
      [gate, formatError(m.two_qubit_error)],
      [trans.__('Median SX error'), formatError(m.sx_error)],
      [trans.__('Median T1'), formatMicroseconds(m.t1_us)],
      [trans.__('Median T2'), formatMicroseconds(m.t2_us)]
    ];
    const local = this._model.listing?.local ?? this._model.plan?.local;
    if (detail.calibrated_at) {
      const date = new Date(detail.calibrated_at);
      const text = isNaN(date.getTime())
        ? detail.calibrated_at
        : date.toLocaleDateString(undefined, {
            year: 'numeric',
            month: 'short',
            day: 'numeric'
          });
      rows.push([
        local ? trans.__('Snapshot of') : trans.__('Last calibrated'),
        text
      ]);
    }
    const list = h('dl', { class: cls('medians') });
    for (const [term, value] of rows) {
      list.append(h('dt', {}, term), h('dd', {}, value));
    }
    const gates = h(
      'ul',
      {
        class: cls('gates'),
        'aria-label': trans.__('Basis gates')
      },
      ...(detail.basis_gates ?? []).map(g =>
        h('li', { class: cls('gate') }, h('code', {}, g))
      )
    );
    const source = local
      ? h(
          'p',
          { class: cls('dataSource', 'localSource') },
          trans.__(
            'Local fleet: these are the calibration data of the snapshot of %1 that qiskit-ibm-runtime ships (taken on the date above), not live data; the queue is simulated.',
            detail.name
          )
        )
      : h(
          'p',
          { class: cls('dataSource') },
          trans.__(
            'As IBM Quantum reports them; the date is the last calibration of %1.',
            detail.name
          )
        );
    replaceChildren(
      this._calibration,
      source,
      list,
      h('h4', { class: cls('subTitle') }, trans.__('Basis gates')),
      gates
    );
  }

  private _model: IQPUListModel;
  private _trans: TranslationBundle;
  private _name: string;
  private _onUse: (name: string) => Promise<unknown> | unknown;
  private _onInsert: (name: string) => Promise<unknown> | unknown;
  private _detail: IQPUDetail | null = null;
  private _error: IRequestError | null = null;
  private _loading: Promise<void> | null = null;
  private _listingStamp: string | null = null;
  private _chip: ChipView;
  private _useButton: HTMLButtonElement;
  private _insertButton: HTMLButtonElement;
  private _facts = h('div', { class: cls('facts') });
  private _status = h('div', { class: cls('banner') });
  private _pickNote = h('span', {
    class: cls('pickNote'),
    'aria-live': 'polite'
  });
  private _spark = h('div', { class: cls('spark') });
  private _calibration = h('div', { class: cls('calibration') });
}

export namespace QPUDetailWidget {
  export interface IOptions {
    model: IQPUListModel;
    name: string;
    trans: TranslationBundle;
    /**
     * "Use this QPU".
     */
    onUse: (name: string) => Promise<unknown> | unknown;
    /**
     * "Insert connect cell".
     */
    onInsert: (name: string) => Promise<unknown> | unknown;
    /**
     * Shown as a Back button when the detail replaces the list (Notebook 7).
     */
    onBack?: () => void;
    id?: string;
  }

  /**
   * The widget id of a QPU's detail.
   */
  export function idFor(name: string): string {
    return detailId(name);
  }
}
