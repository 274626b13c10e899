import { TranslationBundle } from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { cls, h, replaceChildren } from '../views/dom';
import { IAccountStatus, IInstance } from './client';
import { AccountModel } from './model';

/**
 * The words for where the credential comes from.
 */
export function sourceLabel(
  status: IAccountStatus,
  trans: TranslationBundle
): string {
  switch (status.source) {
    case 'sign-in':
      return trans.__('the sign-in');
    case 'environment':
      return trans.__('the environment');
    case '.env':
      return status.source_detail ?? trans.__('the .env');
    case 'saved account':
      return status.source_detail ?? trans.__('a saved account');
    case 'none':
      return trans.__('nothing (the local fleet)');
    default:
      return status.source_detail ?? String(status.source);
  }
}

/**
 * One instance as the form lists it: name, plan, pricing, region.
 */
export function instanceLabel(
  instance: IInstance,
  trans: TranslationBundle
): string {
  const parts = [
    trans.__('%1 plan', instance.plan),
    instance.pricing_type,
    instance.region
  ].filter(p => !!p);
  return `${instance.name} (${parts.join(', ')})`;
}

/**
 * The sign-in section of the QPU sidebar: who is signed in (instance, plan,
 * where the credential is stored, which source wins), Sign in / Switch
 * instance / Sign out, and the sign-in form (a password field, a link to
 * where IBM creates keys, then the key's instances to choose from).
 */
export class AccountSection extends Widget {
  constructor(options: AccountSection.IOptions) {
    super();
    this._model = options.model;
    this._trans = options.trans;
    this._confirm = options.confirm;
    const trans = this._trans;
    this.addClass(cls('account'));
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', trans.__('IBM Quantum account'));

    this._keyInput = h('input', {
      id: `${this.id || 'qcl-account'}-key`,
      type: 'password',
      class: cls('jp-mod-styled', 'keyInput'),
      autocomplete: 'off',
      spellcheck: 'false',
      'aria-label': trans.__('IBM Quantum API key'),
      placeholder: trans.__('Paste your API key')
    });
    this._keyLink = h(
      'a',
      { class: cls('keyLink'), target: '_blank', rel: 'noopener noreferrer' },
      trans.__('Create an API key on IBM Quantum Platform')
    );
    this._checkButton = h(
      'button',
      { type: 'submit', class: cls('jp-Button', 'accountButton', 'check') },
      trans.__('Check key')
    );
    this._keyForm = h(
      'form',
      {
        class: cls('keyForm'),
        onsubmit: (event: Event) => {
          event.preventDefault();
          void this._check();
        }
      },
      h(
        'label',
        { class: cls('keyLabel'), for: this._keyInput.id },
        trans.__('IBM Quantum API key')
      ),
      this._keyInput,
      this._keyLink,
      h(
        'div',
        { class: cls('formButtons') },
        this._checkButton,
        this._cancelButton()
      )
    );
    this._chooseForm = h('form', {
      class: cls('chooseForm'),
      onsubmit: (event: Event) => {
        event.preventDefault();
        void this._choose();
      }
    });
    this._error.setAttribute('role', 'alert');
    this.node.append(
      this._summary,
      this._keyForm,
      this._chooseForm,
      this._error
    );
    this._model.changed.connect(() => this.update(), this);
  }

  /**
   * The API key field (for focus and tests).
   */
  get keyInput(): HTMLInputElement {
    return this._keyInput;
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.render();
  }

  protected onUpdateRequest(msg: Message): void {
    this.render();
  }

  render(): void {
    const model = this._model;
    const status = model.status;
    const step = model.step;
    this._renderSummary(status, step);
    this._keyForm.hidden = !(step === 'key' || step === 'checking');
    this._keyInput.disabled = step === 'checking';
    this._checkButton.disabled = step === 'checking';
    this._checkButton.textContent =
      step === 'checking'
        ? this._trans.__('Checking with IBM…')
        : this._trans.__('Check key');
    this._keyLink.setAttribute(
      'href',
      status?.api_key_page ?? 'https://quantum.cloud.ibm.com/'
    );
    this._chooseForm.hidden = !(step === 'choose' || step === 'storing');
    if (this._chooseForm.hidden) {
      this._choicesShown = '';
    } else {
      this._renderChoices(step === 'storing');
    }
    this._error.textContent = model.error;
    this._error.hidden = !model.error;
  }

  private _renderSummary(status: IAccountStatus | null, step: string): void {
    const trans = this._trans;
    const lines: HTMLElement[] = [];
    const buttons: HTMLElement[] = [];
    if (status?.signed_in) {
      const facts = [status.plan && trans.__('%1 plan', status.plan)]
        .concat(status.pricing_type ? [status.pricing_type] : [])
        .filter(Boolean)
        .join(', ');
      lines.push(
        h(
          'div',
          { class: cls('signedIn') },
          trans.__('Signed in: '),
          h('strong', {}, status.instance_name ?? status.instance ?? ''),
          facts ? ` (${facts})` : ''
        ),
        h(
          'div',
          { class: cls('storedAt') },
          trans.__('Stored in %1', status.stored_at ?? '')
        )
      );
      buttons.push(
        h(
          'button',
          {
            type: 'button',
            class: cls('jp-Button', 'linkButton', 'switchInstance'),
            onclick: () => void this._model.open(true)
          },
          trans.__('Switch instance')
        ),
        h(
          'button',
          {
            type: 'button',
            class: cls('jp-Button', 'linkButton', 'signOut'),
            onclick: () => void this._signOut()
          },
          trans.__('Sign out')
        )
      );
    } else {
      if (status && status.source !== 'none') {
        lines.push(
          h(
            'div',
            { class: cls('source') },
            trans.__('Using the API key from %1.', sourceLabel(status, trans))
          )
        );
      }
      buttons.push(
        h(
          'button',
          {
            type: 'button',
            class: cls('jp-Button', 'accountButton', 'signIn'),
            onclick: () => void this.openForm()
          },
          trans.__('Sign in to IBM Quantum')
        )
      );
    }
    if (status?.note) {
      lines.push(
        h('div', { class: cls('accountNote'), role: 'status' }, status.note)
      );
    }
    const open = step !== 'closed';
    replaceChildren(
      this._summary,
      ...lines,
      open ? null : h('div', { class: cls('accountButtons') }, ...buttons)
    );
  }

  private _renderChoices(storing: boolean): void {
    const trans = this._trans;
    const instances = this._model.instances;
    // Rebuilt only when what it shows changes: a keyboard user keeps the focus.
    const shown = [
      storing,
      this._model.switching,
      ...instances.map(i => i.crn)
    ];
    if (JSON.stringify(shown) === this._choicesShown) {
      return;
    }
    this._choicesShown = JSON.stringify(shown);
    const name = 'qcl-instance';
    const current = this._model.status?.instance;
    const radios = instances.map((instance, index) => {
      const input = h('input', {
        type: 'radio',
        name,
        value: instance.crn,
        disabled: storing,
        checked:
          instance.crn === this._chosen ||
          (!this._chosen && (instance.crn === current || index === 0))
      });
      input.addEventListener('change', () => {
        this._chosen = instance.crn;
      });
      return h(
        'label',
        { class: cls('instanceChoice') },
        input,
        ' ',
        instanceLabel(instance, trans)
      );
    });
    const submit = h(
      'button',
      {
        type: 'submit',
        class: cls('jp-Button', 'accountButton', 'useInstance'),
        disabled: storing || instances.length === 0
      },
      storing
        ? trans.__('Signing in…')
        : this._model.switching
          ? trans.__('Use this instance')
          : trans.__('Sign in')
    );
    replaceChildren(
      this._chooseForm,
      h(
        'fieldset',
        { class: cls('instances') },
        h('legend', {}, trans.__('Choose an instance')),
        ...radios
      ),
      h('div', { class: cls('formButtons') }, submit, this._cancelButton())
    );
  }

  /**
   * Open the form and put the focus in the key field.
   */
  async openForm(): Promise<void> {
    this._chosen = null;
    this._keyInput.value = '';
    await this._model.open(false);
    this._keyInput.focus();
  }

  private _cancelButton(): HTMLButtonElement {
    return h(
      'button',
      {
        type: 'button',
        class: cls('jp-Button', 'linkButton', 'cancel'),
        onclick: () => {
          this._keyInput.value = '';
          this._model.close();
        }
      },
      this._trans.__('Cancel')
    );
  }

  private async _check(): Promise<void> {
    await this._model.check(this._keyInput.value);
    this.render();
    if (this._model.step === 'choose') {
      this._keyInput.value = ''; // the key is no longer in the page's DOM
      this._chooseForm
        .querySelector<HTMLInputElement>('input:checked')
        ?.focus();
    } else {
      this._keyInput.focus();
    }
  }

  private async _choose(): Promise<void> {
    const checked = this._chooseForm.querySelector<HTMLInputElement>(
      'input[type=radio]:checked'
    );
    if (!checked) {
      return;
    }
    this._chosen = checked.value;
    if (await this._model.choose(checked.value)) {
      this._chosen = null;
    }
  }

  private async _signOut(): Promise<void> {
    const status = this._model.status;
    const ok = await this._confirm(
      this._trans.__('Sign out of IBM Quantum?'),
      this._trans.__(
        'The API key stored in %1 is removed; the sidebar and a bare %%qconnect then use %2.',
        status?.stored_at ?? '',
        this._trans.__('the local fleet, or another configured key')
      )
    );
    if (ok) {
      await this._model.signOut();
    }
  }

  private _model: AccountModel;
  private _trans: TranslationBundle;
  private _confirm: AccountSection.Confirm;
  private _summary = h('div', {
    class: cls('accountSummary'),
    'aria-live': 'polite'
  });
  private _keyInput: HTMLInputElement;
  private _keyLink: HTMLAnchorElement;
  private _checkButton: HTMLButtonElement;
  private _keyForm: HTMLFormElement;
  private _chooseForm: HTMLFormElement;
  private _error = h('p', { class: cls('accountError') });
  private _chosen: string | null = null;
  private _choicesShown = '';
}

export namespace AccountSection {
  /**
   * Ask before an action; resolves true to go ahead.
   */
  export type Confirm = (title: string, body: string) => Promise<boolean>;

  export interface IOptions {
    model: AccountModel;
    trans: TranslationBundle;
    confirm: Confirm;
  }
}
