import { LabIcon } from '@jupyterlab/ui-components';

/**
 * A QPU chip: a square die with pins on each side and a qubit ring inside.
 * `jp-icon3` makes the fill follow the JupyterLab theme.
 */
const qpuSvgStr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M7 5h10a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2zm0 2v10h10V7H7z"/>
    <path d="M9 1h2v3H9zM13 1h2v3h-2zM9 20h2v3H9zM13 20h2v3h-2zM1 9h3v2H1zM1 13h3v2H1zM20 9h3v2h-3zM20 13h3v2h-3z"/>
    <path d="M12 8.5a3.5 3.5 0 1 1 0 7 3.5 3.5 0 0 1 0-7zm0 1.6a1.9 1.9 0 1 0 0 3.8 1.9 1.9 0 0 0 0-3.8z"/>
  </g>
</svg>`;

/**
 * The icon of the IBM Quantum QPU sidebar.
 */
export const qpuIcon = new LabIcon({
  name: 'qiskit-connector-lab:qpu',
  svgstr: qpuSvgStr
});

/**
 * An hourglass: jobs that wait and run (not a list, which reads as a table
 * of contents beside the file browser's icons).
 */
const jobsSvgStr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M6 2h12v2h-1v3.2a4 4 0 0 1-1.6 3.2L13.3 12l2.1 1.6A4 4 0 0 1 17 16.8V20h1v2H6v-2h1v-3.2a4 4 0 0 1 1.6-3.2l2.1-1.6-2.1-1.6A4 4 0 0 1 7 7.2V4H6V2zm3 2v3.2a2 2 0 0 0 .8 1.6L12 10.5l2.2-1.7a2 2 0 0 0 .8-1.6V4H9zm3 9.5-2.2 1.7a2 2 0 0 0-.8 1.6V20h6v-3.2a2 2 0 0 0-.8-1.6L12 13.5z"/>
    <path d="M10 18h4v1h-4z"/>
  </g>
</svg>`;

/**
 * The icon of the Jobs sidebar.
 */
export const jobsIcon = new LabIcon({
  name: 'qiskit-connector-lab:jobs',
  svgstr: jobsSvgStr
});
