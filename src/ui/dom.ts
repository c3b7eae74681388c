// Small DOM helpers for the page's views: an element builder (text is always set as text, never as
// HTML, so a job label cannot inject markup) and the number/time formats every view shares.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** Builds an element: `on*` attributes become listeners, booleans toggle the attribute. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** µm with the precision a focus stage has (0.1 µm), e.g. "912.5 µm". */
export function formatUm(um: number | undefined, digits = 1): string {
  return um === undefined || !Number.isFinite(um) ? '–' : `${um.toFixed(digits)} µm`;
}

export function formatTime(iso: string | undefined): string {
  if (!iso) return '–';
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A number input's value, or undefined when empty or not a number. */
export function numberValue(input: HTMLInputElement): number | undefined {
  if (input.value.trim() === '') return undefined;
  const n = Number(input.value);
  return Number.isFinite(n) ? n : undefined;
}

/** A button that asks "sure?" in place (no confirm() dialog) before running its action. */
export function confirmButton(label: string, question: string, action: () => Promise<void> | void) {
  const button = h('button', { type: 'button', class: 'danger' }, label);
  let armed: number | undefined;
  button.addEventListener('click', () => {
    if (armed === undefined) {
      button.textContent = question;
      button.classList.add('armed');
      armed = window.setTimeout(() => {
        armed = undefined;
        button.textContent = label;
        button.classList.remove('armed');
      }, 4000);
      return;
    }
    window.clearTimeout(armed);
    armed = undefined;
    button.textContent = label;
    button.classList.remove('armed');
    void action();
  });
  return button;
}
