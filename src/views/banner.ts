import { TranslationBundle } from '@jupyterlab/translation';

import { formatAge } from '../format';
import { cls, h, replaceChildren } from './dom';
import { IQPUListModel } from '../tokens';

/**
 * What the banner says: loading, an error with no data, or stale data.
 */
export type BannerKind = 'none' | 'loading' | 'error' | 'stale';

/**
 * The state of the fleet in words, above the list: loading, error (with no
 * data) and stale data, with the age of the data and a Retry button. The
 * panel is never blank: with no data this banner is all there is.
 */
export class BannerView {
  constructor(
    private _model: IQPUListModel,
    private _trans: TranslationBundle
  ) {
    const trans = this._trans;
    this._retry = h(
      'button',
      {
        type: 'button',
        class: cls('jp-Button', 'retry'),
        'aria-label': trans.__('Retry loading the QPUs'),
        onclick: () => void this._model.refresh()
      },
      trans.__('Retry')
    );
    this._actions = h(
      'div',
      { class: cls('bannerActions') },
      this._retry,
      this._note
    );
    this.node = h(
      'div',
      { class: cls('banner'), role: 'status' },
      this._spinner,
      this._text,
      this._actions
    );
  }

  readonly node: HTMLElement;

  get kind(): BannerKind {
    return this._kind;
  }

  update(now: number = Date.now()): void {
    const model = this._model;
    const trans = this._trans;
    let kind: BannerKind = 'none';
    if (model.phase === 'loading') {
      kind = 'loading';
    } else if (model.phase === 'error') {
      kind = 'error';
    } else if (model.stale) {
      kind = 'stale';
    }
    this._kind = kind;
    this.node.dataset.kind = kind;
    this.node.hidden = kind === 'none';
    for (const k of ['loading', 'error', 'stale']) {
      this.node.classList.toggle(`jp-mod-${k}`, k === kind);
    }
    // An error with nothing to show interrupts; the rest is polite.
    const role = kind === 'error' ? 'alert' : 'status';
    if (this.node.getAttribute('role') !== role) {
      this.node.setAttribute('role', role);
    }
    this._spinner.hidden = kind !== 'loading';
    this._actions.hidden = kind !== 'error' && kind !== 'stale';

    const error = model.error;
    if (kind === 'none') {
      replaceChildren(this._text);
    } else if (kind === 'loading') {
      replaceChildren(this._text, trans.__('Loading QPUs…'));
    } else if (kind === 'error') {
      const envFile = model.waitsForConfig
        ? (error?.config?.env_file ??
          model.plan?.config?.env_file ??
          model.plan?.env_file ??
          null)
        : null;
      replaceChildren(
        this._text,
        h('strong', {}, trans.__('Cannot load the QPUs.')),
        ' ',
        error?.message ?? '',
        error?.code
          ? h('span', { class: cls('errorCode') }, ` (${error.code})`)
          : null,
        error?.hint ? h('span', { class: cls('hint') }, error.hint) : null,
        model.waitsForConfig
          ? h(
              'span',
              { class: cls('configWait') },
              envFile
                ? trans.__('Tried again when %1 changes.', envFile)
                : trans.__('Tried again when the configuration changes.')
            )
          : null
      );
    } else {
      // Stale: the list below is the last good data.
      replaceChildren(
        this._text,
        h(
          'strong',
          {},
          trans.__('Stale data from %1.', formatAge(model.ageSeconds(now)))
        ),
        ' ',
        model.staleReason
      );
    }

    this._retry.textContent = model.busy
      ? trans.__('Retrying…')
      : trans.__('Retry');
    this._retry.setAttribute('aria-busy', String(model.busy));
    const next = model.nextAttempt;
    const wait =
      error && next !== null && !model.busy && !model.waitsForConfig
        ? Math.max(0, Math.round((next - now) / 1000))
        : 0;
    this._note.textContent =
      wait > 0 ? trans.__('Next try in %1 s.', wait) : '';
  }

  private _kind: BannerKind = 'none';
  private _spinner = h('span', {
    class: cls('spinner'),
    'aria-hidden': 'true'
  });
  private _text = h('div', { class: cls('bannerText') });
  private _note = h('span', { class: cls('retryNote') });
  private _retry: HTMLButtonElement;
  private _actions: HTMLElement;
}
