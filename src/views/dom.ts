/**
 * A tiny DOM builder for the views: `h('div', {class: 'x'}, child, 'text')`
 * and `svg('circle', {cx: 1})`.
 */

export type Child = Node | string | number | null | undefined | false;

export type Attrs = Record<
  string,
  string | number | boolean | null | undefined | EventListener
>;

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el: Element, attrs: Attrs | undefined, children: Child[]): void {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, ...children);
}

/**
 * Append children, skipping empty ones; strings become text nodes.
 */
export function append(el: Element, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    el.append(child instanceof Node ? child : String(child));
  }
}

/**
 * Create an HTML element.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs, children);
  return el;
}

/**
 * Create an SVG element.
 */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs?: Attrs,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag) as SVGElementTagNameMap[K];
  apply(el, attrs, children);
  return el;
}

/**
 * Replace all children of an element.
 */
export function replaceChildren(el: Element, ...children: Child[]): void {
  while (el.firstChild) {
    el.removeChild(el.firstChild);
  }
  append(el, ...children);
}

/**
 * The CSS class prefix of the extension.
 */
export const CSS = 'jp-QiskitConnectorLab';

/**
 * `cls('row', 'name')` → `jp-QiskitConnectorLab-row jp-QiskitConnectorLab-name`.
 */
export function cls(...names: (string | false | null | undefined)[]): string {
  return names
    .filter((n): n is string => !!n)
    .map(n => (n.startsWith('jp-') || n.startsWith('lm-') ? n : `${CSS}-${n}`))
    .join(' ');
}
