// The stage panel: where the focus is (and whether the stage can be sure), jog buttons in fine and
// coarse steps, the arrow keys, go-to, home and stop. Key repeats add up into one move at a time.
import { api } from './api.js';
import { formatUm, h, numberValue } from './dom.js';
import { showError } from './messages.js';
import { onStatus, setPosition } from './rig-status.js';
import type { StagePosition, Status } from './types.js';

export interface JogPanel {
  element: HTMLElement;
  dispose(): void;
}

const FINE_CHOICES = [0.5, 1, 2, 5, 10, 20];
const COARSE_CHOICES = [20, 50, 100, 200, 500];

function select(name: string, choices: number[], chosen: number): HTMLSelectElement {
  const element = h('select', { name, 'aria-label': `${name} step, µm` });
  for (const c of choices) element.append(h('option', { value: c, selected: c === chosen }, `${c} µm`));
  return element;
}

export function jogPanel(): JogPanel {
  const position = h('output', { class: 'position', 'aria-live': 'polite' }, '–');
  const detail = h('p', { class: 'muted' });
  const warning = h('p', { class: 'warning', hidden: true });
  const fine = select('fine', FINE_CHOICES, 5);
  const coarse = select('coarse', COARSE_CHOICES, 50);
  const target = h('input', {
    type: 'number',
    step: 'any',
    name: 'goto',
    placeholder: 'µm',
    'aria-label': 'Go to, µm',
  });
  const busyNote = h('p', { class: 'muted', hidden: true });

  // Moves accumulate while one is running; the stage takes one move at a time (STAGE_BUSY).
  let pendingUm = 0;
  let moving = false;
  const move = async (body: { by: number } | { to: number }) => {
    moving = true;
    try {
      setPosition(await api.post<StagePosition>('/api/stage/move', body));
    } catch (error) {
      pendingUm = 0;
      showError(error, 'Move');
    } finally {
      moving = false;
    }
    if (pendingUm !== 0) {
      const by = pendingUm;
      pendingUm = 0;
      await move({ by });
    }
  };
  const jog = (direction: 1 | -1, size: 'fine' | 'coarse') => {
    const um = direction * Number((size === 'fine' ? fine : coarse).value);
    if (moving) pendingUm += um;
    else void move({ by: um });
  };
  const jogButtons: { button: HTMLButtonElement; direction: 1 | -1; size: 'fine' | 'coarse' }[] = [];
  const jogButton = (direction: 1 | -1, size: 'fine' | 'coarse', hint: string) => {
    const button = h('button', { type: 'button', class: `jog ${size}`, title: hint, 'aria-label': hint });
    button.addEventListener('click', () => jog(direction, size));
    jogButtons.push({ button, direction, size });
    return button;
  };
  /** The buttons say how far they move: "▲ 5 µm", "▼▼ 50 µm". */
  const labelJogButtons = () => {
    for (const { button, direction, size } of jogButtons) {
      const arrow = (direction > 0 ? '▲' : '▼').repeat(size === 'fine' ? 1 : 2);
      button.textContent = `${arrow} ${(size === 'fine' ? fine : coarse).value} µm`;
    }
  };
  fine.addEventListener('change', labelJogButtons);
  coarse.addEventListener('change', labelJogButtons);

  const goto = h('form', { class: 'inline' }, target, h('button', { type: 'submit' }, 'Go'));
  goto.addEventListener('submit', (event) => {
    event.preventDefault();
    const to = numberValue(target);
    if (to === undefined) return showError(new Error('type a position in µm'), 'Go to');
    void move({ to });
  });
  const home = h('button', { type: 'button' }, 'Home');
  home.addEventListener('click', () => {
    api
      .post<StagePosition>('/api/stage/home')
      .then(setPosition)
      .catch((error: unknown) => showError(error, 'Home'));
  });
  const stop = h('button', { type: 'button', class: 'danger' }, 'Stop');
  stop.addEventListener('click', () => {
    pendingUm = 0;
    api
      .post<StagePosition>('/api/stage/stop')
      .then(setPosition)
      .catch((error: unknown) => showError(error, 'Stop'));
  });

  const element = h(
    'section',
    { class: 'panel stage', 'aria-label': 'Stage' },
    h('h2', {}, 'Stage'),
    position,
    detail,
    warning,
    h(
      'div',
      { class: 'jog-grid' },
      jogButton(1, 'coarse', 'Up, coarse (Shift+↑ or Page Up)'),
      jogButton(1, 'fine', 'Up, fine (↑)'),
      jogButton(-1, 'fine', 'Down, fine (↓)'),
      jogButton(-1, 'coarse', 'Down, coarse (Shift+↓ or Page Down)'),
    ),
    h('div', { class: 'row' }, h('label', {}, 'Fine ', fine), h('label', {}, 'Coarse ', coarse)),
    h('p', { class: 'muted hint' }, 'Keys: ↑ ↓ fine, Shift+↑ ↓ or Page Up/Down coarse.'),
    h('div', { class: 'row' }, h('label', {}, 'Go to ', goto), home, stop),
    busyNote,
  );
  labelJogButtons();

  const render = (status: Status | null) => {
    if (!status) return;
    const { position: p, limits, stepUm } = status.stage;
    position.textContent = formatUm(p.um);
    detail.textContent = `${p.steps} steps · limits ${limits.minUm}–${limits.maxUm} µm · smallest move ${stepUm.toPrecision(2)} µm`;
    warning.hidden = p.certain;
    warning.textContent = p.certain ? '' : `Position uncertain: ${p.uncertainReason ?? 'not homed'}`;
    const busy = status.job !== null;
    busyNote.hidden = !busy;
    busyNote.textContent = busy ? `Job ${status.job?.id} owns the stage: jogging waits until it ends.` : '';
    for (const b of element.querySelectorAll<HTMLButtonElement>('button.jog')) b.disabled = busy;
  };
  const unsubscribe = onStatus(render);

  const onKey = (event: KeyboardEvent) => {
    const target = event.target as HTMLElement | null;
    if (target?.closest('input, select, textarea, [contenteditable]') || event.altKey || event.ctrlKey)
      return;
    const keys: Record<string, [1 | -1, 'fine' | 'coarse']> = {
      ArrowUp: [1, event.shiftKey ? 'coarse' : 'fine'],
      ArrowDown: [-1, event.shiftKey ? 'coarse' : 'fine'],
      PageUp: [1, 'coarse'],
      PageDown: [-1, 'coarse'],
    };
    const action = keys[event.key];
    if (!action) return;
    event.preventDefault();
    jog(...action);
  };
  window.addEventListener('keydown', onKey);

  return {
    element,
    dispose() {
      unsubscribe();
      window.removeEventListener('keydown', onKey);
    },
  };
}
