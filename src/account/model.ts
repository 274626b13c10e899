import { ISignal, Signal } from '@lumino/signaling';

import { APIError } from '../request';
import { AccountClient, IAccountStatus, IInstance } from './client';

/**
 * How long a pasted key is kept in this page's memory while an instance is
 * chosen (ms); after that it must be pasted again.
 */
export const KEY_LIFETIME = 5 * 60_000;

/**
 * What the sign-in form is doing.
 */
export type FormStep = 'closed' | 'key' | 'checking' | 'choose' | 'storing';

/**
 * The account shown in the sidebar, and the sign-in form's state.
 *
 * The key lives only in a private field, between the check and the choice of
 * an instance, for at most `KEY_LIFETIME`; it is never put in `status`,
 * `error` or any signal.
 */
export class AccountModel {
  constructor(options: AccountModel.IOptions) {
    this._client = options.client;
    this._onSignedIn = options.onChange ?? (() => undefined);
  }

  get changed(): ISignal<AccountModel, void> {
    return this._changed;
  }

  get status(): IAccountStatus | null {
    return this._status;
  }

  get step(): FormStep {
    return this._step;
  }

  get instances(): IInstance[] {
    return this._instances;
  }

  /**
   * The last error, one line ('' when none).
   */
  get error(): string {
    return this._error;
  }

  /**
   * Whether the form switches instance with the key signed in already.
   */
  get switching(): boolean {
    return this._switching;
  }

  async refresh(): Promise<void> {
    try {
      this._status = await this._client.status();
      this._error = '';
    } catch (reason) {
      this._error = message(reason);
    }
    this._changed.emit();
  }

  /**
   * Open the form: ask for a key, or (`switching`) list the instances of the
   * key signed in already.
   */
  async open(switching = false): Promise<void> {
    this._forgetKey();
    this._switching = switching && !!this._status?.signed_in;
    this._instances = [];
    this._error = '';
    this._step = 'key';
    this._changed.emit();
    if (this._switching) {
      await this._list(null);
    }
  }

  close(): void {
    this._forgetKey();
    this._step = 'closed';
    this._instances = [];
    this._error = '';
    this._changed.emit();
  }

  /**
   * Check the pasted key with IBM and list its instances.
   */
  async check(key: string): Promise<void> {
    const clean = key.trim();
    if (!clean) {
      this._error = 'Paste your IBM Quantum API key first.';
      this._changed.emit();
      return;
    }
    await this._list(clean);
  }

  /**
   * Store the key with the chosen instance; the sidebar then shows IBM's QPUs.
   */
  async choose(instance: string): Promise<boolean> {
    if (!this._switching && this._key === null) {
      this._error = 'The pasted key was forgotten; paste it again.';
      this._step = 'key';
      this._changed.emit();
      return false;
    }
    this._step = 'storing';
    this._error = '';
    this._changed.emit();
    try {
      this._status = await this._client.signIn(
        this._switching ? null : this._key,
        instance
      );
    } catch (reason) {
      this._error = message(reason);
      this._step = 'choose';
      this._changed.emit();
      return false;
    }
    this._forgetKey();
    this._step = 'closed';
    this._instances = [];
    this._changed.emit();
    await this._onSignedIn();
    return true;
  }

  async signOut(): Promise<void> {
    try {
      this._status = await this._client.signOut();
      this._error = '';
    } catch (reason) {
      this._error = message(reason);
    }
    this._changed.emit();
    await this._onSignedIn();
  }

  dispose(): void {
    this._forgetKey();
    Signal.clearData(this);
  }

  private async _list(key: string | null): Promise<void> {
    this._step = 'checking';
    this._error = '';
    this._changed.emit();
    try {
      this._instances = await this._client.instances(key);
    } catch (reason) {
      this._error = message(reason);
      this._step = this._switching ? 'choose' : 'key';
      this._changed.emit();
      return;
    }
    if (key !== null) {
      this._key = key;
      this._timer = setTimeout(() => this._forgetKey(), KEY_LIFETIME);
    }
    this._step = 'choose';
    this._changed.emit();
  }

  private _forgetKey(): void {
    this._key = null;
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _client: AccountClient;
  private _onSignedIn: () => void | Promise<void>;
  private _changed = new Signal<AccountModel, void>(this);
  private _status: IAccountStatus | null = null;
  private _step: FormStep = 'closed';
  private _instances: IInstance[] = [];
  private _error = '';
  private _switching = false;
  private _key: string | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
}

export namespace AccountModel {
  export interface IOptions {
    client: AccountClient;
    /**
     * Called after a sign-in or sign-out (e.g. refresh the QPU list).
     */
    onChange?: () => void | Promise<void>;
  }
}

/**
 * One line for an error: the server's message and hint.
 */
export function message(reason: unknown): string {
  if (reason instanceof APIError) {
    return reason.hint ? `${reason.message} ${reason.hint}` : reason.message;
  }
  return reason instanceof Error ? reason.message : String(reason);
}
