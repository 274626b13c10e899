import { TranslationBundle } from '@jupyterlab/translation';

import { formatQueueLength } from '../format';
import { IPick, IQPUSummary } from '../wire';
import { cls, h, replaceChildren } from './dom';

/**
 * A counter for unique element ids.
 */
let uid = 0;

/**
 * The filters of the list.
 */
export interface IQPUFilter {
  /**
   * Text matched against the name and the processor.
   */
  text: string;
  /**
   * The smallest number of qubits shown (0 for all).
   */
  minQubits: number;
}

/**
 * The QPUs that pass a filter, in the given order.
 */
export function filterQpus(
  qpus: IQPUSummary[],
  filter: IQPUFilter
): IQPUSummary[] {
  const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
  return qpus.filter(q => {
    if (filter.minQubits > 0 && q.qubits < filter.minQubits) {
      return false;
    }
    const hay = [q.name, q.family, q.processor, q.status, q.revision]
      .filter(Boolean)
      .join(' ')
      .toLowerCase();
    return words.every(w => hay.includes(w));
  });
}

/**
 * The label of a QPU's processor, e.g. `Eagle r3`.
 */
export function processorLabel(q: {
  processor?: string | null;
  family?: string | null;
  revision?: string | null;
}): string {
  if (q.processor) {
    return q.processor;
  }
  if (q.family) {
    return q.revision ? `${q.family} r${q.revision}` : q.family;
  }
  return '';
}

/**
 * The filter controls: a search box and a minimum number of qubits.
 */
export class FilterView {
  constructor(
    private _trans: TranslationBundle,
    private _onChange: (filter: IQPUFilter) => void
  ) {
    const trans = this._trans;
    this._text = h('input', {
      type: 'search',
      class: cls('jp-InputGroup', 'filterText'),
      placeholder: trans.__('Search'),
      title: trans.__('Search QPUs by name or processor'),
      'aria-label': trans.__('Filter QPUs by name or processor'),
      spellcheck: 'false',
      autocomplete: 'off'
    });
    this._minQubits = h('input', {
      type: 'number',
      min: 0,
      step: 1,
      inputmode: 'numeric',
      class: cls('minQubits'),
      placeholder: '0',
      'aria-label': trans.__('Minimum number of qubits'),
      title: trans.__('Minimum number of qubits')
    });
    const emit = () => this._onChange(this.filter);
    this._text.addEventListener('input', emit);
    this._minQubits.addEventListener('input', emit);
    this._text.addEventListener('keydown', event => {
      if (event.key === 'Escape' && this._text.value) {
        this._text.value = '';
        event.stopPropagation();
        emit();
      }
    });
    const minId = `${cls('minQubits')}-${++uid}`;
    this._minQubits.id = minId;
    this.node = h(
      'div',
      {
        class: cls('filters'),
        role: 'search',
        'aria-label': trans.__('Filter QPUs')
      },
      this._text,
      h(
        'label',
        { class: cls('minQubitsLabel'), for: minId },
        trans.__('Min qubits')
      ),
      this._minQubits
    );
  }

  readonly node: HTMLElement;

  get filter(): IQPUFilter {
    const min = parseInt(this._minQubits.value, 10);
    return {
      text: this._text.value.trim(),
      minQubits: isFinite(min) && min > 0 ? min : 0
    };
  }

  focus(): void {
    this._text.focus();
  }

  private _text: HTMLInputElement;
  private _minQubits: HTMLInputElement;
}

/**
 * The QPU list: one row per QPU, least busy first. Rows are buttons: a click,
 * Enter or Space opens the QPU; arrow keys, Home and End move between rows.
 * Rows are updated in place so keyboard focus survives a refresh.
 */
export class ListView {
  constructor(
    private _trans: TranslationBundle,
    private _onOpen: (name: string) => void
  ) {
    this.node = h('div', { class: cls('listWrap') }, this._list, this._empty);
    this._list.setAttribute(
      'aria-label',
      this._trans.__('QPUs, least busy first')
    );
    this._list.addEventListener('keydown', this._onKeyDown);
  }

  readonly node: HTMLElement;

  /**
   * Show these QPUs (already filtered and sorted).
   */
  update(
    qpus: IQPUSummary[],
    options: {
      pick: IPick | null;
      total: number;
      phase: 'loading' | 'ready' | 'error';
    }
  ): void {
    const trans = this._trans;
    const selected = options.pick?.qpu ?? null;
    const maxQueue = Math.max(
      1,
      ...qpus.map(q => (typeof q.queue === 'number' ? q.queue : 0))
    );
    const active = document.activeElement;
    const keep = new Set<string>();
    const order: HTMLElement[] = [];
    for (const q of qpus) {
      keep.add(q.name);
      let row = this._rows.get(q.name);
      if (!row) {
        row = this._createRow(q.name);
        this._rows.set(q.name, row);
      }
      this._fillRow(row, q, q.name === selected, maxQueue);
      order.push(row.item);
    }
    for (const [name, row] of this._rows) {
      if (!keep.has(name)) {
        row.item.remove();
        this._rows.delete(name);
      }
    }
    // Reorder only when needed; moving a node drops its focus, so give it back.
    const current = Array.from(this._list.children);
    if (
      current.length !== order.length ||
      current.some((el, i) => el !== order[i])
    ) {
      order.forEach(item => this._list.appendChild(item));
      if (active instanceof HTMLElement && this._list.contains(active)) {
        active.focus();
      }
    }

    if (qpus.length === 0 && options.phase === 'ready') {
      this._empty.hidden = false;
      this._empty.textContent =
        options.total === 0
          ? trans.__('This instance has no QPUs.')
          : trans.__('No QPU matches the filter (%1 hidden).', options.total);
    } else {
      this._empty.hidden = true;
    }
  }

  /**
   * Focus the first row (returns false if there is none).
   */
  focusFirst(): boolean {
    const first = this._list.querySelector('button');
    if (first) {
      (first as HTMLButtonElement).focus();
      return true;
    }
    return false;
  }

  private _createRow(name: string): Private.IRow {
    const button = h('button', {
      type: 'button',
      class: cls('row'),
      'data-qpu': name
    });
    button.addEventListener('click', () => this._onOpen(name));
    const item = h('li', { class: cls('item'), 'data-qpu': name }, button);
    const row: Private.IRow = {
      item,
      button,
      dot: h('span', { class: cls('dot'), 'aria-hidden': 'true' }),
      name: h('span', { class: cls('name') }, name),
      meta: h('span', { class: cls('meta') }),
      badges: h('span', { class: cls('rowBadges') }),
      queue: h('span', { class: cls('queue') }),
      bar: h('span', { class: cls('barFill') })
    };
    button.append(
      row.dot,
      h('span', { class: cls('rowMain') }, row.name, row.meta),
      h(
        'span',
        { class: cls('rowQueue') },
        row.queue,
        h('span', { class: cls('bar'), 'aria-hidden': 'true' }, row.bar)
      ),
      row.badges
    );
    return row;
  }

  private _fillRow(
    row: Private.IRow,
    q: IQPUSummary,
    selected: boolean,
    maxQueue: number
  ): void {
    const trans = this._trans;
    const status = q.status;
    row.dot.className = cls('dot', `jp-mod-${status}`);
    row.dot.title = q.status_reason ? `${status}: ${q.status_reason}` : status;
    const processor = processorLabel(q);
    row.meta.textContent = [
      trans._n('%1 qubit', '%1 qubits', q.qubits),
      processor
    ]
      .filter(Boolean)
      .join(' · ');
    row.meta.title = row.meta.textContent ?? '';
    const queue = typeof q.queue === 'number' ? q.queue : null;
    row.queue.textContent = queue === null ? '?' : String(queue);
    row.queue.title = formatQueueLength(queue);
    row.bar.style.width = `${queue === null ? 0 : Math.round((100 * queue) / maxQueue)}%`;
    row.item.classList.toggle('jp-mod-selected', selected);
    row.item.classList.toggle('jp-mod-leastBusy', q.least_busy);
    row.button.dataset.status = status;

    replaceChildren(
      row.badges,
      q.least_busy
        ? h(
            'span',
            { class: cls('badge', 'leastBusy') },
            trans.__('Least busy')
          )
        : null,
      selected
        ? h(
            'span',
            {
              class: cls('badge', 'inUse'),
              title: trans.__('A bare %%qconnect uses this QPU')
            },
            trans.__('In use')
          )
        : null
    );

    const label = [
      q.name,
      statusText(trans, status, q.status_reason),
      trans._n('%1 qubit', '%1 qubits', q.qubits),
      processor,
      queue === null
        ? trans.__('queue unknown')
        : trans._n('%1 job queued', '%1 jobs queued', queue),
      q.least_busy ? trans.__('least busy') : '',
      selected ? trans.__('in use for %%qconnect') : ''
    ]
      .filter(Boolean)
      .join(', ');
    row.button.setAttribute('aria-label', label);
    row.button.title = trans.__('Show %1: chip, calibration and queue', q.name);
  }

  private _onKeyDown = (event: KeyboardEvent): void => {
    const buttons = Array.from(
      this._list.querySelectorAll<HTMLButtonElement>('button.' + cls('row'))
    );
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (index < 0) {
      return;
    }
    let next = -1;
    switch (event.key) {
      case 'ArrowDown':
        next = Math.min(buttons.length - 1, index + 1);
        break;
      case 'ArrowUp':
        next = Math.max(0, index - 1);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = buttons.length - 1;
        break;
      default:
        return;
    }
    event.preventDefault();
    event.stopPropagation();
    buttons[next].focus();
  };

  private _list = h('ul', { class: cls('list') });
  private _empty = h('p', { class: cls('empty') });
  private _rows = new Map<string, Private.IRow>();
}

/**
 * A status in words.
 */
export function statusText(
  trans: TranslationBundle,
  status: string,
  reason?: string
): string {
  const word =
    status === 'online'
      ? trans.__('online')
      : status === 'paused'
        ? trans.__('paused')
        : status === 'offline'
          ? trans.__('offline')
          : status;
  return reason ? `${word} (${reason})` : word;
}

namespace Private {
  export interface IRow {
    item: HTMLLIElement;
    button: HTMLButtonElement;
    dot: HTMLElement;
    name: HTMLElement;
    meta: HTMLElement;
    badges: HTMLElement;
    queue: HTMLElement;
    bar: HTMLElement;
  }
}
