import { TranslationBundle } from '@jupyterlab/translation';
import { refreshIcon } from '@jupyterlab/ui-components';

import { formatAge } from '../format';
import { cls, h, replaceChildren } from './dom';
import { IQPUListModel } from '../tokens';

/**
 * The top of the fleet panel: the plan and instance, a clear "Local fleet"
 * badge when offline, the age of the data and a refresh button.
 */
export class HeaderView {
  constructor(
    private _model: IQPUListModel,
    private _trans: TranslationBundle
  ) {
    const trans = this._trans;
    this._refresh = h(
      'button',
      {
        type: 'button',
        class: cls('jp-Button', 'iconButton', 'refresh'),
        'aria-label': trans.__('Refresh the QPU list'),
        title: trans.__('Refresh the QPU list'),
        onclick: () => void this._model.refresh()
      },
      refreshIcon.element({ tag: 'span', className: cls('refreshIcon') })
    );
    this.node = h(
      'header',
      { class: cls('header') },
      h(
        'div',
        { class: cls('titleRow') },
        h('h2', { class: cls('heading') }, trans.__('IBM Quantum QPUs')),
        this._refresh
      ),
      this._plan,
      this._age
    );
    this._age.setAttribute('aria-live', 'off');
  }

  readonly node: HTMLElement;

  update(now: number = Date.now()): void {
    const trans = this._trans;
    const model = this._model;
    const plan = model.plan;
    const backends = model.listing;
    const local = plan?.local ?? backends?.local ?? null;

    const parts: (HTMLElement | string)[] = [];
    if (local === true) {
      parts.push(
        h(
          'span',
          {
            class: cls('badge', 'localBadge'),
            title: trans.__(
              'Offline: fake backends with simulated queues; jobs run on this machine.'
            )
          },
          trans.__('Local fleet')
        )
      );
    } else if (local === false) {
      parts.push(
        h('span', { class: cls('badge', 'ibmBadge') }, trans.__('IBM Quantum'))
      );
    }
    if (plan) {
      parts.push(
        h(
          'span',
          {
            class: cls('badge', 'planBadge'),
            title: plan.verified
              ? trans.__(
                  '%1 (checked with IBM)',
                  plan.plan_display_name || plan.plan_label
                )
              : plan.plan_display_name || plan.plan_label
          },
          plan.plan_label
        )
      );
    }
    const details: (HTMLElement | string)[] = [];
    if (plan) {
      details.push(
        h(
          'div',
          { class: cls('instance') },
          h('span', { class: cls('label') }, trans.__('Instance')),
          ' ',
          h(
            'span',
            { class: cls('instanceName'), title: plan.crn ?? plan.instance },
            plan.instance || '—'
          )
        )
      );
      const envFile = plan.config?.env_file ?? plan.env_file ?? null;
      const endpoint = plan.config?.endpoint ?? plan.endpoint ?? null;
      details.push(
        h(
          'div',
          { class: cls('configSource'), title: envFile ?? '' },
          h('span', { class: cls('label') }, trans.__('Read from')),
          ' ',
          envFile ?? trans.__('the environment (no .env)')
        )
      );
      if (endpoint) {
        details.push(
          h(
            'div',
            { class: cls('endpoint'), title: endpoint },
            h('span', { class: cls('label') }, trans.__('Endpoint')),
            ' ',
            h('code', {}, endpoint),
            ' ',
            trans.__("(not IBM's default)")
          )
        );
      }
      const usage = plan.usage;
      if (usage && usage.remaining_seconds !== null) {
        const minutes = Math.floor(usage.remaining_seconds / 60);
        details.push(
          h(
            'div',
            {
              class: cls('usage', usage.limit_reached && 'usageLimit')
            },
            usage.limit_reached
              ? trans.__('Usage limit reached')
              : trans.__('%1 min of QPU time left', minutes)
          )
        );
      }
    } else if (model.phase !== 'error') {
      details.push(
        h(
          'div',
          { class: cls('instance', 'muted') },
          trans.__('Reading the plan…')
        )
      );
    }
    replaceChildren(
      this._plan,
      h('div', { class: cls('badges') }, ...parts),
      ...details
    );

    const age = model.ageSeconds(now);
    replaceChildren(
      this._age,
      age === null
        ? ''
        : trans.__('Updated %1', formatAge(age)) +
            (model.stale ? ` · ${trans.__('stale')}` : '')
    );
    this._age.classList.toggle('jp-mod-stale', model.stale);
    this._refresh.classList.toggle('jp-mod-busy', model.busy);
    this._refresh.setAttribute('aria-busy', String(model.busy));
  }

  private _plan = h('div', { class: cls('plan') });
  private _age = h('div', { class: cls('age') });
  private _refresh: HTMLButtonElement;
}
