import { TranslationBundle } from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { formatAge, formatQueueLength } from '../format';
import { cls, h, replaceChildren } from '../views/dom';
import {
  formatDuration,
  runSeconds,
  secondsBetween,
  statusChip
} from './commands';
import { JobsModel } from './model';
import { IJob, IJobDetail } from '../wire';
import { PENDING_STATUSES } from './tokens';

/**
 * A status chip: queued, running, done, failed or cancelled.
 */
export function chip(status: string, trans: TranslationBundle): HTMLElement {
  const { kind } = statusChip(status);
  const words: Record<string, string> = {
    queued: trans.__('queued'),
    running: trans.__('running'),
    done: trans.__('done'),
    cancelled: trans.__('cancelled'),
    failed: trans.__('failed')
  };
  return h(
    'span',
    { class: cls('jobChip', `jobChip-${kind}`), 'data-status': kind },
    words[kind]
  );
}

/**
 * One row per job: status chip, QPU (and its queue, for a queued job on
 * IBM: local jobs never wait in it), primitive, age, run time, tags; the
 * whole id on hover, and a button that copies it. Arrow keys move between
 * rows.
 */
export class JobListView {
  constructor(
    private _trans: TranslationBundle,
    private _onOpen: (id: string) => void
  ) {
    this.node.addEventListener('keydown', event => this._onKey(event));
  }

  readonly node = h('ul', { class: cls('jobList'), role: 'list' });

  update(
    jobs: IJob[],
    queueOf: (qpu: string) => number | null,
    now: number
  ): void {
    const trans = this._trans;
    const active = document.activeElement as HTMLElement | null;
    const focused = active?.dataset?.job ?? active?.dataset?.copy;
    const focusedCopy = !!active?.dataset?.copy;
    replaceChildren(
      this.node,
      ...jobs.map(job => {
        const queue =
          job.status === 'QUEUED' && job.provider !== 'local'
            ? queueOf(job.qpu)
            : null;
        const created = secondsBetween(job.created, null, now);
        const run = runSeconds(job, now);
        const button = h(
          'button',
          {
            type: 'button',
            class: cls('jobRow'),
            'data-job': job.id,
            'data-status': statusChip(job.status).kind,
            title: trans.__('Show job %1', job.id),
            onclick: () => this._onOpen(job.id)
          },
          h(
            'span',
            { class: cls('jobLine') },
            chip(job.status, trans),
            h('span', { class: cls('jobQpu') }, job.qpu || '—'),
            queue !== null
              ? h(
                  'span',
                  {
                    class: cls('jobQueue'),
                    title: trans.__('The queue of %1 now', job.qpu)
                  },
                  trans.__('queue %1', formatQueueLength(queue))
                )
              : null,
            h('span', { class: cls('jobPrimitive') }, job.primitive || '')
          ),
          h(
            'span',
            { class: cls('jobMeta') },
            h(
              'code',
              { class: cls('jobShortId'), title: job.id },
              shortId(job.id)
            ),
            h('span', { class: cls('jobAge') }, formatAge(created)),
            run !== null
              ? h(
                  'span',
                  { class: cls('jobRun') },
                  trans.__('ran %1', formatDuration(run))
                )
              : null,
            ...job.tags.map(tag => h('span', { class: cls('jobTag') }, tag))
          )
        );
        return h(
          'li',
          { class: cls('jobItem') },
          button,
          copyButton(job.id, trans, { 'data-copy': job.id })
        );
      })
    );
    if (focused) {
      const selector = focusedCopy
        ? `button[data-copy="${CSS.escape(focused)}"]`
        : `button[data-job="${CSS.escape(focused)}"]`;
      this.node.querySelector<HTMLElement>(selector)?.focus();
    }
  }

  focusFirst(): void {
    this.node.querySelector<HTMLElement>('button[data-job]')?.focus();
  }

  private _onKey(event: KeyboardEvent): void {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') {
      return;
    }
    const buttons = Array.from(
      this.node.querySelectorAll<HTMLElement>('button[data-job]')
    );
    const index = buttons.indexOf(document.activeElement as HTMLElement);
    const next = buttons[index + (event.key === 'ArrowDown' ? 1 : -1)];
    if (next) {
      next.focus();
      event.preventDefault();
    }
  }
}

/**
 * The list side of the Jobs panel: header (title, provider, filter,
 * refresh), banner (loading / error / stale / empty) and the rows.
 */
export class JobsView extends Widget {
  constructor(options: JobsView.IOptions) {
    super();
    this.addClass(cls('jobs'));
    this._model = options.model;
    this._trans = options.trans;
    this._queueOf = options.queueOf;
    const trans = this._trans;
    this._pendingButton.textContent = trans.__('Pending');
    this._allButton.textContent = trans.__('All');
    this._refresh.setAttribute('aria-label', trans.__('Refresh jobs'));
    this._refresh.title = trans.__('Refresh jobs');
    this._retry.textContent = trans.__('Retry');
    this.list = new JobListView(trans, options.onOpen);
    const filter = h(
      'div',
      {
        class: cls('jobFilter'),
        role: 'group',
        'aria-label': trans.__('Which jobs')
      },
      this._pendingButton,
      this._allButton
    );
    this._pendingButton.addEventListener('click', () => {
      this._model.pendingOnly = true;
    });
    this._allButton.addEventListener('click', () => {
      this._model.pendingOnly = false;
    });
    this._refresh.addEventListener('click', () => void this._model.refresh());
    this._retry.addEventListener('click', () => void this._model.refresh());
    this.node.append(
      h(
        'div',
        { class: cls('jobsHeader') },
        h('h2', { class: cls('jobsTitle') }, trans.__('Jobs')),
        this._provider,
        this._refresh
      ),
      filter,
      this._banner,
      this._notes,
      this.list.node,
      this._count
    );
    this._count.setAttribute('aria-live', 'polite');
    this._model.changed.connect(() => this.update(), this);
  }

  readonly list: JobListView;

  protected onUpdateRequest(msg: Message): void {
    this.render();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.render();
  }

  render(now: number = Date.now()): void {
    const model = this._model;
    const trans = this._trans;
    const reply = model.reply;
    this._pendingButton.setAttribute('aria-pressed', String(model.pendingOnly));
    this._allButton.setAttribute('aria-pressed', String(!model.pendingOnly));
    this._provider.textContent = reply
      ? reply.local
        ? trans.__('Local fleet')
        : trans.__('IBM Quantum')
      : '';
    this._provider.hidden = !reply;
    this._provider.classList.toggle('jp-mod-local', !!reply?.local);
    this._refresh.setAttribute('aria-busy', String(model.busy));

    let kind = 'none';
    let text: (string | HTMLElement)[] = [];
    if (model.phase === 'loading') {
      kind = 'loading';
      text = [trans.__('Loading jobs…')];
    } else if (model.phase === 'error') {
      kind = 'error';
      text = [
        h('strong', {}, trans.__('Cannot load the jobs.')),
        ' ',
        model.error?.message ?? ''
      ];
    } else if (model.stale) {
      kind = 'stale';
      text = [
        h(
          'strong',
          {},
          trans.__('Stale data from %1.', formatAge(model.ageSeconds(now)))
        ),
        ' ',
        model.staleReason
      ];
    } else if (model.jobs.length === 0) {
      kind = 'empty';
      text = [
        model.pendingOnly
          ? trans.__('No job is queued or running.')
          : trans.__('No jobs yet. Jobs you run from a notebook show here.')
      ];
    }
    this._banner.dataset.kind = kind;
    for (const k of ['loading', 'error', 'stale', 'empty']) {
      this._banner.classList.toggle(`jp-mod-${k}`, k === kind);
    }
    this._banner.hidden = kind === 'none';
    this._banner.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    this._retry.hidden = kind !== 'error' && kind !== 'stale';
    replaceChildren(this._bannerText, ...text);
    // What the server says about the page, e.g. a job IBM sent that could
    // not be read and is left out.
    const notes = reply?.notes ?? [];
    replaceChildren(
      this._notes,
      ...notes.map(note => h('p', { class: cls('jobsNote') }, note))
    );
    this._notes.hidden = notes.length === 0;
    this.list.update(model.jobs, this._queueOf, now);
    this._count.textContent =
      reply && reply.jobs.length > 0
        ? trans.__('%1 of %2 jobs', reply.jobs.length, reply.total)
        : '';
  }

  private _model: JobsModel;
  private _trans: TranslationBundle;
  private _queueOf: (qpu: string) => number | null;
  private _pendingButton = h('button', {
    type: 'button',
    class: cls('jp-Button', 'jobFilterButton')
  });
  private _allButton = h('button', {
    type: 'button',
    class: cls('jp-Button', 'jobFilterButton')
  });
  private _provider = h('span', { class: cls('jobsProvider') });
  private _refresh = h(
    'button',
    { type: 'button', class: cls('jp-Button', 'jobsRefresh') },
    '⟳'
  );
  private _bannerText = h('div', { class: cls('bannerText') });
  private _retry = h('button', {
    type: 'button',
    class: cls('jp-Button', 'retry')
  });
  private _banner = h(
    'div',
    { class: cls('banner', 'jobsBanner'), role: 'status' },
    this._bannerText,
    this._retry
  );
  private _notes = h('div', { class: cls('jobsNotes'), role: 'note' });
  private _count = h('div', { class: cls('count') });
}

export namespace JobsView {
  export interface IOptions {
    model: JobsModel;
    trans: TranslationBundle;
    onOpen: (id: string) => void;
    queueOf: (qpu: string) => number | null;
  }
}

/**
 * One job in detail: copyable id, status, QPU, primitive, timestamps, run
 * time, usage, session, tags, error text; Cancel, Insert cell, Back.
 */
export class JobDetailView extends Widget {
  constructor(options: JobDetailView.IOptions) {
    super();
    this.addClass(cls('jobDetail'));
    this.id = `qiskit-connector-lab-job-${options.id}`;
    this.jobId = options.id;
    this._options = options;
    this.node.tabIndex = -1;
    this.node.setAttribute('role', 'region');
    this.node.setAttribute(
      'aria-label',
      options.trans.__('Job %1', options.id)
    );
    void this.load();
  }

  readonly jobId: string;

  get job(): IJobDetail | null {
    return this._job;
  }

  async load(): Promise<void> {
    const { model, trans } = this._options;
    this._render(null, trans.__('Loading job…'));
    try {
      this._job = await model.detail(this.jobId);
      this._render(this._job, '');
    } catch (reason) {
      const message = reason instanceof Error ? reason.message : String(reason);
      this._render(this._job, message, true);
    }
  }

  private _render(job: IJobDetail | null, note: string, failed = false): void {
    const { trans, onBack, onCancel, onInsert } = this._options;
    const now = Date.now();
    const row = (label: string, value: string | HTMLElement | null) =>
      value === null || value === ''
        ? null
        : h(
            'div',
            { class: cls('jobField') },
            h('dt', {}, label),
            h('dd', {}, value)
          );
    const when = (iso: string | null) =>
      iso ? new Date(iso).toLocaleString() : null;
    const copy = copyButton(this.jobId, trans);
    const pending = job ? PENDING_STATUSES.has(job.status) : false;
    const actions = h(
      'div',
      { class: cls('jobActions') },
      h(
        'button',
        {
          type: 'button',
          class: cls('jp-Button', 'jobBack'),
          onclick: () => onBack()
        },
        trans.__('Back to jobs')
      ),
      h(
        'button',
        {
          type: 'button',
          class: cls('jp-Button', 'jobInsert'),
          onclick: () => onInsert(this.jobId)
        },
        trans.__('Insert cell')
      ),
      pending
        ? h(
            'button',
            {
              type: 'button',
              class: cls('jp-Button', 'jp-mod-warn', 'jobCancel'),
              onclick: async () => {
                if (await onCancel(this.jobId)) {
                  void this.load();
                }
              }
            },
            trans.__('Cancel job…')
          )
        : null
    );
    replaceChildren(
      this.node,
      h(
        'div',
        { class: cls('jobDetailHeader') },
        h('h2', {}, trans.__('Job')),
        job ? chip(job.status, trans) : null
      ),
      h(
        'div',
        { class: cls('jobId') },
        h('code', { class: cls('jobIdText') }, this.jobId),
        copy
      ),
      note
        ? h(
            'div',
            {
              class: cls('banner', failed ? 'jp-mod-error' : 'jp-mod-loading'),
              role: failed ? 'alert' : 'status'
            },
            note
          )
        : null,
      job
        ? h(
            'dl',
            { class: cls('jobFields') },
            row(trans.__('QPU'), job.qpu),
            row(trans.__('Primitive'), job.primitive),
            row(
              trans.__('Provider'),
              job.local ? trans.__('Local fleet') : trans.__('IBM Quantum')
            ),
            row(trans.__('Created'), when(job.created)),
            row(trans.__('Started'), when(job.started)),
            row(trans.__('Finished'), when(job.finished)),
            row(trans.__('Run time'), formatDuration(runSeconds(job, now))),
            row(
              trans.__('Usage'),
              job.usage_seconds === null || job.usage_seconds === undefined
                ? job.local
                  ? trans.__('none (local simulation)')
                  : null
                : trans.__(
                    '%1 of quantum time',
                    formatDuration(job.usage_seconds)
                  )
            ),
            row(trans.__('Shots'), job.shots ? String(job.shots) : null),
            row(trans.__('PUBs'), job.pubs ? String(job.pubs) : null),
            row(trans.__('Session / batch'), job.session_id),
            row(trans.__('Tags'), job.tags.join(', '))
          )
        : null,
      job?.error
        ? h('pre', { class: cls('jobError'), role: 'note' }, job.error)
        : null,
      actions
    );
  }

  private _options: JobDetailView.IOptions;
  private _job: IJobDetail | null = null;
}

export namespace JobDetailView {
  export interface IOptions {
    id: string;
    model: JobsModel;
    trans: TranslationBundle;
    onBack: () => void;
    /**
     * Ask, then cancel; resolves true when the job was cancelled.
     */
    onCancel: (id: string) => Promise<boolean>;
    onInsert: (id: string) => void;
  }
}

/**
 * A button that copies a job id, and says whether it did.
 */
function copyButton(
  id: string,
  trans: TranslationBundle,
  data: Record<string, string> = {}
): HTMLElement {
  const label = trans.__('Copy the job id %1', id);
  const button = h(
    'button',
    {
      type: 'button',
      class: cls('jp-Button', 'jobCopy'),
      'aria-label': label,
      title: label,
      ...data,
      onclick: () => {
        void copyText(id).then(ok => {
          button.textContent = ok ? trans.__('Copied') : trans.__('Select it');
        });
      }
    },
    trans.__('Copy')
  );
  return button;
}

/**
 * Copy text to the clipboard; false when the browser refuses (the id text is
 * selectable with one click then).
 */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The start of a job id, enough to tell the rows apart (the detail has it
 * all).
 */
export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 10)}…` : id;
}
