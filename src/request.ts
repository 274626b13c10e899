import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { IQPUClient } from './tokens';
import {
  IConfigInfo,
  IPick,
  IPlanInfo,
  IQPUDetail,
  IQPUListReply,
  IRequestError
} from './wire';

/**
 * The URL namespace of the server extension.
 */
export const API_NAMESPACE = 'qiskit-connector-lab';

/**
 * An error reply of the server extension: its `{message, code}` and the
 * HTTP status.
 */
export class APIError extends ServerConnection.ResponseError {
  constructor(
    response: Response,
    message: string,
    code: string,
    extra: { hint?: string; config?: IConfigInfo } = {}
  ) {
    super(response, message);
    this.name = 'APIError';
    this.code = code;
    this.hint = extra.hint ?? '';
    this.config = extra.config;
  }

  /**
   * The server's error code, e.g. `unknown_backend`.
   */
  readonly code: string;
  /**
   * What to do about it ('' when the server says nothing).
   */
  readonly hint: string;
  /**
   * The configuration the server read, when the reply names it.
   */
  readonly config?: IConfigInfo;
}

/**
 * How long a request may take before it is abandoned (ms).
 */
export const DEFAULT_TIMEOUT = 60_000;

/**
 * The server did not answer in time.
 */
export class RequestTimeoutError extends Error {
  constructor(readonly timeout: number) {
    super(
      `The Jupyter server did not answer within ${Math.round(timeout / 1000)} s.`
    );
    this.name = 'RequestTimeoutError';
  }
}

/**
 * Call the server extension and return its JSON reply.
 *
 * @param endPoint The REST end point, relative to the extension's namespace.
 * @param init The request options (method, body...).
 * @param settings The server settings (defaults to the page's).
 * @throws APIError for an error reply, ServerConnection.NetworkError when
 *   the server cannot be reached.
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings(),
  timeout: number = DEFAULT_TIMEOUT
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);
  // A request that never ends would stall the poll: give up after `timeout`.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  let response: Response;
  let text: string;
  try {
    response = await ServerConnection.makeRequest(
      url,
      { signal: controller.signal, ...init },
      settings
    );
    text = await response.text();
  } catch (error) {
    if (controller.signal.aborted) {
      throw new RequestTimeoutError(timeout);
    }
    throw error instanceof ServerConnection.NetworkError
      ? error
      : new ServerConnection.NetworkError(error as TypeError);
  } finally {
    clearTimeout(timer);
  }

  let data: any = text;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      // Not JSON (e.g. a proxy's HTML error page): keep the text.
    }
  }

  if (!response.ok) {
    const message =
      (data && typeof data === 'object' && data.message) ||
      (typeof data === 'string' && data.length > 0 && data.length < 300
        ? data
        : '') ||
      `${response.status} ${response.statusText}`.trim();
    const code =
      (data && typeof data === 'object' && data.code) ||
      `http_${response.status}`;
    const body = data && typeof data === 'object' ? data : {};
    throw new APIError(response, String(message), String(code), {
      hint: typeof body.hint === 'string' ? body.hint : undefined,
      config:
        body.config && typeof body.config === 'object' ? body.config : undefined
    });
  }
  return data as T;
}

/**
 * Describe any failure of a request as an `IRequestError`.
 */
export function toRequestError(reason: unknown): IRequestError {
  if (reason instanceof APIError) {
    const error: IRequestError = {
      message: reason.message,
      code: reason.code,
      status: reason.response.status
    };
    if (reason.hint) {
      error.hint = reason.hint;
    }
    if (reason.config) {
      error.config = reason.config;
    }
    return error;
  }
  if (reason instanceof ServerConnection.ResponseError) {
    return {
      message: reason.message,
      code: `http_${reason.response.status}`,
      status: reason.response.status
    };
  }
  if (reason instanceof RequestTimeoutError) {
    return { message: reason.message, code: 'timeout', status: 0 };
  }
  if (reason instanceof ServerConnection.NetworkError) {
    return {
      message: 'The Jupyter server cannot be reached.',
      code: 'network',
      status: 0
    };
  }
  const message =
    reason instanceof Error ? reason.message : String(reason ?? 'Error');
  return { message, code: 'error', status: 0 };
}

/**
 * The server extension's REST API over `ServerConnection`.
 */
export class QPUClient implements IQPUClient {
  constructor(options: QPUClient.IOptions = {}) {
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT;
  }

  readonly serverSettings: ServerConnection.ISettings;

  /**
   * How long a request may take (ms).
   */
  readonly timeout: number;

  getPlan(): Promise<IPlanInfo> {
    return requestAPI<IPlanInfo>('plan', {}, this.serverSettings, this.timeout);
  }

  getQPUs(): Promise<IQPUListReply> {
    return requestAPI<IQPUListReply>(
      'backends',
      {},
      this.serverSettings,
      this.timeout
    );
  }

  getQPU(name: string): Promise<IQPUDetail> {
    return requestAPI<IQPUDetail>(
      `backends/${encodeURIComponent(name)}`,
      {},
      this.serverSettings,
      this.timeout
    );
  }

  getPick(): Promise<IPick> {
    return requestAPI<IPick>('pick', {}, this.serverSettings, this.timeout);
  }

  setPick(qpu: string | null): Promise<IPick> {
    return requestAPI<IPick>(
      'pick',
      {
        method: 'POST',
        body: JSON.stringify({ qpu }),
        headers: { 'Content-Type': 'application/json' }
      },
      this.serverSettings,
      this.timeout
    );
  }
}

export namespace QPUClient {
  export interface IOptions {
    serverSettings?: ServerConnection.ISettings;
    /**
     * How long a request may take (ms, default 60 s).
     */
    timeout?: number;
  }
}
