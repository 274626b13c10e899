/**
 * The command ids and the pure helpers behind the commands (no JupyterLab
 * import here: `addCommands.ts` registers the commands).
 */

export namespace CommandIDs {
  /**
   * Show the QPU sidebar.
   */
  export const open = 'qiskit-connector-lab:open';
  /**
   * Ask the server for the fleet now.
   */
  export const refresh = 'qiskit-connector-lab:refresh';
  /**
   * Open the detail of a QPU (`{name}`).
   */
  export const showDetail = 'qiskit-connector-lab:show-qpu';
  /**
   * "Use this QPU": pick it for a bare `%qconnect` (`{name}`).
   */
  export const use = 'qiskit-connector-lab:use-qpu';
  /**
   * Forget the pick: a bare `%qconnect` takes the least busy QPU again.
   */
  export const clearPick = 'qiskit-connector-lab:clear-pick';
  /**
   * "Insert connect cell" into the active notebook (`{name}`).
   */
  export const insertCell = 'qiskit-connector-lab:insert-connect-cell';
}

/**
 * The palette category of the commands.
 */
export const PALETTE_CATEGORY = 'IBM Quantum';

/**
 * A QPU name as `%qconnect` takes it: the names of IBM and fake backends are
 * plain identifiers, anything else is refused rather than quoted.
 */
export function isQPUName(name: unknown): name is string {
  return typeof name === 'string' && /^[A-Za-z0-9_.-]{1,100}$/.test(name);
}

/**
 * The source of a connect cell: connect to the QPU (a bare `%qconnect`
 * without a name uses the pick), after loading the extension unless the
 * notebook already does.
 */
export function connectCellSource(
  name?: string | null,
  loaded = false
): string {
  const target = name && isQPUName(name) ? ` ${name}` : '';
  const load = loaded ? '' : '%load_ext qiskit_connector_lab\n';
  return `${load}%qconnect${target}`;
}

/**
 * Whether one of these cell sources loads the extension already.
 */
export function loadsExtension(sources: Iterable<string>): boolean {
  for (const source of sources) {
    if (/^\s*%(re)?load_ext\s+qiskit_connector_lab\b/m.test(source)) {
      return true;
    }
  }
  return false;
}

/**
 * The widget id of a QPU's detail view.
 */
export function detailId(name: string): string {
  return `qiskit-connector-lab-detail-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/**
 * The arguments of the commands that act on one QPU.
 */
export const QPU_ARGS_SCHEMA = {
  type: 'object' as const,
  properties: {
    name: {
      type: 'string' as const,
      description:
        'The QPU, e.g. fake_fez or ibm_torino; without it, the QPU of the active detail view, else ask.'
    }
  }
};

/**
 * The arguments of commands that take none.
 */
export const NO_ARGS_SCHEMA = { type: 'object' as const, properties: {} };
