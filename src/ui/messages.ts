// The page's message strip: API errors and confirmations shown in the page (never alert()), so a
// person at the microscope reads what went wrong without a modal blocking the jog buttons.
import { h } from './dom.js';
import { ApiError } from './api.js';

const MAX_SHOWN = 4;
/** Information fades; errors stay until dismissed, since they usually need reading twice. */
const INFO_MS = 5000;

function strip(): HTMLElement {
  const element = document.getElementById('messages');
  if (!element) throw new Error('index.html lacks #messages');
  return element;
}

export function showMessage(
  text: string,
  kind: 'error' | 'info' = 'info',
  link?: { href: string; text: string },
): HTMLElement {
  const container = strip();
  const close = h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss' }, '×');
  const message = h(
    'div',
    { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', { class: 'text' }, text, link && ' ', link && h('a', { href: link.href }, link.text)),
    close,
  );
  close.addEventListener('click', () => message.remove());
  container.prepend(message);
  while (container.children.length > MAX_SHOWN) container.lastElementChild?.remove();
  if (kind === 'info') window.setTimeout(() => message.remove(), INFO_MS);
  return message;
}

/** Shows any failure as a message: the API's code and text, or what the browser said. */
export function showError(error: unknown, doing?: string): void {
  const prefix = doing ? `${doing}: ` : '';
  if (error instanceof ApiError) showMessage(`${prefix}${error.message} (${error.code})`, 'error');
  else if (error instanceof Error) showMessage(`${prefix}${error.message}`, 'error');
  else showMessage(`${prefix}${String(error)}`, 'error');
}

/** Runs an action, turning a failure into a message; resolves to undefined when it failed. */
export async function attempt<T>(doing: string, action: () => Promise<T>): Promise<T | undefined> {
  try {
    return await action();
  } catch (error) {
    showError(error, doing);
    return undefined;
  }
}
