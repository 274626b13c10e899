import { ServerConnection } from '@jupyterlab/services';

import { DEFAULT_TIMEOUT, requestAPI } from '../request';
import { ICancelReply, IJobDetail, IJobsReply } from '../wire';
import { IJobsClient, IJobsQuery } from './tokens';

/**
 * The jobs routes of the server extension.
 */
export class JobsClient implements IJobsClient {
  constructor(
    readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings(),
    readonly timeout: number = DEFAULT_TIMEOUT
  ) {}

  getJobs(query: IJobsQuery): Promise<IJobsReply> {
    const params = new URLSearchParams();
    params.set('pending', query.pending ? 'true' : 'false');
    if (query.qpu) {
      params.set('qpu', query.qpu);
    }
    params.set('limit', String(query.limit ?? 20));
    if (query.offset) {
      params.set('offset', String(query.offset));
    }
    return requestAPI<IJobsReply>(
      `jobs?${params.toString()}`,
      {},
      this.serverSettings,
      this.timeout
    );
  }

  getJob(id: string): Promise<IJobDetail> {
    return requestAPI<IJobDetail>(
      `jobs/${encodeURIComponent(id)}`,
      {},
      this.serverSettings,
      this.timeout
    );
  }

  cancelJob(id: string): Promise<ICancelReply> {
    return requestAPI<ICancelReply>(
      `jobs/${encodeURIComponent(id)}/cancel`,
      { method: 'POST', body: '' },
      this.serverSettings,
      this.timeout
    );
  }
}
