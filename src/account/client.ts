import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../request';

/**
 * One instance an API key can use, as the server lists it.
 */
export interface IInstance {
  crn: string;
  name: string;
  plan: string;
  pricing_type: string;
  region: string | null;
}

/**
 * Where the credential comes from today.
 */
export type CredentialSource =
  'sign-in' | 'environment' | '.env' | 'saved account' | 'argument' | 'none';

/**
 * `GET account`: signed in or not, and which source wins. Never the key.
 */
export interface IAccountStatus {
  signed_in: boolean;
  instance: string | null;
  instance_name?: string | null;
  plan?: string | null;
  pricing_type?: string | null;
  region?: string | null;
  stored_at: string | null;
  signed_in_at?: string | null;
  source: CredentialSource | string;
  source_detail: string | null;
  api_key_page: string;
  note: string | null;
  problems: string[];
}

/**
 * The `account` routes of the server extension.
 */
export class AccountClient {
  constructor(
    private _settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  status(): Promise<IAccountStatus> {
    return requestAPI<IAccountStatus>('account', {}, this._settings);
  }

  /**
   * Check a key with IBM and list its instances (`token` null: the key
   * signed in already).
   */
  async instances(token: string | null): Promise<IInstance[]> {
    const body = token === null ? {} : { token };
    const reply = await requestAPI<{ instances: IInstance[] }>(
      'account',
      { method: 'POST', body: JSON.stringify(body) },
      this._settings
    );
    return reply.instances;
  }

  signIn(token: string | null, instance: string): Promise<IAccountStatus> {
    const body = token === null ? { instance } : { token, instance };
    return requestAPI<IAccountStatus>(
      'account',
      { method: 'POST', body: JSON.stringify(body) },
      this._settings
    );
  }

  signOut(): Promise<IAccountStatus> {
    return requestAPI<IAccountStatus>(
      'account',
      { method: 'DELETE' },
      this._settings
    );
  }
}
