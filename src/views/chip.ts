import { TranslationBundle } from '@jupyterlab/translation';

import {
  chipGeometry,
  errorScale,
  formatError,
  formatMicroseconds,
  IErrorScale
} from '../art';
import { IQPUDetail } from '../wire';
import { Child, cls, h, replaceChildren, svg } from './dom';

/**
 * A counter for unique element ids.
 */
let uid = 0;

/**
 * What colours the chip.
 */
export type ColorBy = 'readout' | 'two-qubit';

/**
 * The processor art of one QPU: one `<circle>` per qubit and one `<line>` per
 * coupler, laid out from the server's coordinates, coloured by readout or
 * 2-qubit error with a legend. Hovering a qubit or coupler shows its values
 * (a `<title>` for assistive tech and a tooltip near the pointer).
 */
export class ChipView {
  constructor(private _trans: TranslationBundle) {
    const trans = this._trans;
    const group = `${cls('colorBy')}-${++uid}`;
    const radio = (value: ColorBy, label: string) => {
      const input = h('input', {
        type: 'radio',
        name: group,
        value,
        class: cls('colorByInput')
      });
      input.checked = value === this._colorBy;
      input.addEventListener('change', () => {
        if (input.checked) {
          this.colorBy = value;
        }
      });
      this._radios.push(input);
      return h('label', { class: cls('colorByOption') }, input, ' ', label);
    };
    this._toolbar = h(
      'fieldset',
      { class: cls('colorBy') },
      h('legend', { class: cls('colorByLegend') }, trans.__('Colour by')),
      radio('readout', trans.__('Readout error')),
      radio('two-qubit', trans.__('2-qubit error'))
    );
    this.node = h(
      'div',
      { class: cls('chip') },
      this._toolbar,
      this._frame,
      this._legend
    );
    this._frame.append(this._svgHost, this._tooltip);
    this._tooltip.hidden = true;
    this._tooltip.setAttribute('role', 'tooltip');
    this._svgHost.addEventListener('pointerover', this._onPointer);
    this._svgHost.addEventListener('pointermove', this._onPointer);
    this._svgHost.addEventListener('pointerleave', () => {
      this._tooltip.hidden = true;
    });
  }

  readonly node: HTMLElement;

  get colorBy(): ColorBy {
    return this._colorBy;
  }

  set colorBy(value: ColorBy) {
    if (value === this._colorBy) {
      return;
    }
    this._colorBy = value;
    for (const input of this._radios) {
      input.checked = input.value === value;
    }
    if (this._detail) {
      this._draw(this._detail);
    }
  }

  /**
   * Draw a QPU (again only if its layout or calibration changed).
   */
  render(detail: IQPUDetail): void {
    const same =
      this._detail &&
      this._detail.name === detail.name &&
      this._detail.calibrated_at === detail.calibrated_at &&
      this._detail.layout.coordinates.length ===
        detail.layout.coordinates.length;
    this._detail = detail;
    if (!same) {
      this._draw(detail);
    }
  }

  private _draw(detail: IQPUDetail): void {
    const trans = this._trans;
    const geometry = chipGeometry(detail.layout);
    const readout = detail.qubit_errors?.readout ?? [];
    const t1 = detail.qubit_errors?.t1_us ?? [];
    const t2 = detail.qubit_errors?.t2_us ?? [];
    const edgeError = new Map<string, number | null>();
    for (const e of detail.edge_errors ?? []) {
      const [a, b] = e.edge;
      edgeError.set(`${Math.min(a, b)}-${Math.max(a, b)}`, e.error);
    }
    const byReadout = this._colorBy === 'readout';
    const scale: IErrorScale = byReadout
      ? errorScale(readout, 'readout')
      : errorScale(Array.from(edgeError.values()), 'two-qubit');
    const gate = detail.two_qubit_gate ?? trans.__('2-qubit');

    const lines = geometry.edges.map(e => {
      const error = edgeError.get(`${e.a}-${e.b}`) ?? null;
      const bin = byReadout ? null : scale.bin(error);
      const tip = trans.__(
        'Coupler %1–%2: %3 error %4',
        e.a,
        e.b,
        gate,
        formatError(error)
      );
      return svg(
        'line',
        {
          x1: e.x1,
          y1: e.y1,
          x2: e.x2,
          y2: e.y2,
          class: cls(
            'edge',
            byReadout ? 'neutral' : bin === null ? 'binNone' : `bin${bin}`,
            !byReadout && scale.isOutlier(error) && 'outlier'
          ),
          'stroke-width': byReadout
            ? geometry.strokeWidth
            : geometry.strokeWidth * 1.8,
          'data-edge': `${e.a}-${e.b}`,
          'data-tip': tip
        },
        svg('title', {}, tip)
      );
    });
    const circles = geometry.nodes.map(n => {
      const error = readout[n.index] ?? null;
      const bin = byReadout ? scale.bin(error) : null;
      const tip = trans.__(
        'Qubit %1: readout error %2, T1 %3, T2 %4',
        n.index,
        formatError(error),
        formatMicroseconds(t1[n.index]),
        formatMicroseconds(t2[n.index])
      );
      return svg(
        'circle',
        {
          cx: n.x,
          cy: n.y,
          r: geometry.radius,
          class: cls(
            'qubit',
            byReadout ? (bin === null ? 'binNone' : `bin${bin}`) : 'neutral',
            byReadout && scale.isOutlier(error) && 'outlier'
          ),
          'data-qubit': n.index,
          'data-tip': tip
        },
        svg('title', {}, tip)
      );
    });
    const labels =
      geometry.nodes.length <= 40
        ? geometry.nodes.map(n =>
            svg(
              'text',
              {
                x: n.x,
                y: n.y,
                class: cls('qubitLabel'),
                'font-size': geometry.radius * 0.95,
                'aria-hidden': 'true'
              },
              String(n.index)
            )
          )
        : [];
    const art = svg(
      'svg',
      {
        class: cls('chipSvg'),
        viewBox: geometry.viewBox,
        role: 'img',
        preserveAspectRatio: 'xMidYMid meet',
        'aria-label': trans.__(
          'Chip of %1: %2 qubits, %3 couplers (%4 layout), coloured by %5',
          detail.name,
          geometry.nodes.length,
          geometry.edges.length,
          detail.layout.kind,
          byReadout ? trans.__('readout error') : trans.__('2-qubit error')
        ),
        'data-layout': detail.layout.kind
      },
      svg('g', { class: cls('edges') }, ...lines),
      svg('g', { class: cls('qubits') }, ...circles),
      labels.length ? svg('g', { class: cls('qubitLabels') }, ...labels) : null
    );
    replaceChildren(this._svgHost, art);
    this._drawLegend(scale, byReadout);
  }

  private _drawLegend(scale: IErrorScale, byReadout: boolean): void {
    const trans = this._trans;
    const title = byReadout
      ? trans.__('Readout error')
      : trans.__('2-qubit error');
    const items: Child[] = scale.stops.map(stop =>
      h(
        'li',
        { class: cls('legendItem') },
        h('span', {
          class: cls('swatch', `bin${stop.bin}`),
          'aria-hidden': 'true'
        }),
        stop.label
      )
    );
    if (scale.outliers > 0) {
      items.push(
        h(
          'li',
          { class: cls('legendItem', 'outlierItem') },
          h('span', {
            class: cls('swatch', `bin${scale.count - 1}`, 'outlier'),
            'aria-hidden': 'true'
          }),
          trans._n(
            '%1 outlier ≥ %2, drawn as the last colour',
            '%1 outliers ≥ %2, drawn as the last colour',
            scale.outliers,
            formatError(scale.outlier)
          )
        )
      );
    }
    items.push(
      h(
        'li',
        { class: cls('legendItem') },
        h('span', { class: cls('swatch', 'binNone'), 'aria-hidden': 'true' }),
        trans.__('no data')
      )
    );
    replaceChildren(
      this._legend,
      h(
        'span',
        { class: cls('legendTitle') },
        title,
        h(
          'span',
          { class: cls('legendNote') },
          trans.__(' (one scale for every QPU)')
        )
      ),
      scale.count === 0
        ? h('span', { class: cls('muted') }, trans.__('No calibration data.'))
        : null,
      h(
        'ul',
        {
          class: cls('legendList'),
          'aria-label': trans.__('Legend: %1', title)
        },
        ...items
      )
    );
  }

  private _onPointer = (event: PointerEvent): void => {
    const target = event.target as Element | null;
    const tip = target?.getAttribute?.('data-tip');
    if (!tip) {
      this._tooltip.hidden = true;
      return;
    }
    const frame = this._frame.getBoundingClientRect();
    this._tooltip.textContent = tip;
    this._tooltip.hidden = false;
    this._tooltip.style.left = `${event.clientX - frame.left + 12}px`;
    this._tooltip.style.top = `${event.clientY - frame.top + 12}px`;
  };

  private _colorBy: ColorBy = 'readout';
  private _detail: IQPUDetail | null = null;
  private _radios: HTMLInputElement[] = [];
  private _toolbar: HTMLElement;
  private _frame = h('div', { class: cls('chipFrame') });
  private _svgHost = h('div', { class: cls('chipHost') });
  private _tooltip = h('div', { class: cls('tooltip') });
  private _legend = h('div', { class: cls('legend') });
}
