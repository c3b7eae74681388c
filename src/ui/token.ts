// The bearer token a daemon listening on the LAN asks for on changing requests: entered once in a
// form (not a prompt()), kept in this browser's localStorage, sent by api.ts on every request.

const STORAGE_KEY = 'stackscope.token';
let pending: Promise<boolean> | null = null;
/** Used when localStorage is off (private mode): the token then lives only as long as the page. */
let memoryToken: string | null = null;

export function currentToken(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return memoryToken;
  }
}

/** Fired on window when the token is saved or forgotten (the header's button shows whether one is set). */
const TOKEN_CHANGED = 'stackscope-token';

function storeToken(token: string | null): void {
  memoryToken = token;
  try {
    if (token) localStorage.setItem(STORAGE_KEY, token);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // See currentToken.
  }
  window.dispatchEvent(new Event(TOKEN_CHANGED));
}

function parts() {
  const dialog = document.getElementById('token-dialog') as HTMLDialogElement | null;
  const form = dialog?.querySelector('form');
  const input = dialog?.querySelector<HTMLInputElement>('input[name=token]');
  const reason = dialog?.querySelector<HTMLElement>('.reason');
  if (!dialog || !form || !input || !reason) throw new Error('index.html lacks the token dialog');
  return { dialog, form, input, reason };
}

/**
 * Shows the token form with why it is needed; resolves true once a token was saved, false when the
 * person cancelled. Requests that fail together share one form.
 */
export function askForToken(why: string): Promise<boolean> {
  pending ??= new Promise<boolean>((resolve) => {
    const { dialog, form, input, reason } = parts();
    reason.textContent = why;
    input.value = currentToken() ?? '';
    const finish = (saved: boolean) => {
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      pending = null;
      resolve(saved);
    };
    const onSubmit = (event: SubmitEvent) => {
      event.preventDefault();
      const submitter = event.submitter as HTMLButtonElement | null;
      if (submitter?.value === 'cancel') return finish(false);
      if (submitter?.value === 'forget') {
        storeToken(null);
        return finish(false);
      }
      const token = input.value.trim();
      if (!token) return;
      storeToken(token);
      finish(true);
    };
    const onClose = () => finish(false);
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    input.focus();
  });
  return pending;
}

/** The header's "Token" button: enter or change the token before any request needs it. */
export function installTokenButton(button: HTMLElement): void {
  const label = () => (button.textContent = currentToken() ? 'Token ✓' : 'Token');
  label();
  button.addEventListener('click', () => {
    void askForToken(
      'The daemon asks for this token on changing requests when it listens on the network (server.token).',
    );
  });
  window.addEventListener('storage', label);
  window.addEventListener(TOKEN_CHANGED, label);
}
