// The "new stack" form: start and end set from the stage's current position (or N frames around it),
// the step and frame count kept consistent with each other, stacking settings, and Start.
import { api } from './api.js';
import { h, numberValue } from './dom.js';
import { attempt, showMessage } from './messages.js';
import { currentStatus } from './rig-status.js';
import { stackSettingsFields } from './stack-settings.js';

export interface CaptureForm {
  element: HTMLElement;
}

/** Planes from start to end by step, as the daemon's planner counts them (src/jobs/plan.ts). */
export function planeCount(start: number, end: number, step: number): number {
  return Math.floor(Math.abs(end - start) / step + 1e-9) + 1;
}

const numberInput = (name: string, attrs: Record<string, string | number> = {}) =>
  h('input', { type: 'number', step: 'any', name, inputmode: 'decimal', ...attrs });

export function captureForm(onStarted: (id: string) => void): CaptureForm {
  const range = h('input', { type: 'radio', name: 'mode', value: 'range', checked: true });
  const around = h('input', { type: 'radio', name: 'mode', value: 'around' });
  const start = numberInput('start', { placeholder: 'µm' });
  const end = numberInput('end', { placeholder: 'µm' });
  const step = numberInput('step', { value: 10, min: 0 });
  const frames = numberInput('frames', { value: 11, min: 2, max: 255, step: 1 });
  const planned = h('p', { class: 'muted planned' });
  const settings = stackSettingsFields();
  const settleMs = numberInput('settleMs', { placeholder: 'default', min: 0, max: 10000, step: 1 });
  const keepFrames = h('input', { type: 'checkbox', name: 'keepFrames', checked: true });
  const label = h('input', {
    type: 'text',
    name: 'label',
    maxlength: 200,
    placeholder: 'e.g. scorpion tail',
  });
  const startButton = h('button', { type: 'submit', class: 'primary' }, 'Start');

  const here = () => currentStatus()?.stage.position.um;
  const setHere = (input: HTMLInputElement) => () => {
    const um = here();
    if (um === undefined) return showMessage('The stage position is not known yet', 'error');
    input.value = String(Math.round(um * 10) / 10);
    range.checked = true;
    update('range');
  };

  /** Keeps step and frame count in agreement; `changed` says which one the person typed. */
  const update = (changed: 'range' | 'frames') => {
    const s = numberValue(start);
    const e = numberValue(end);
    const st = numberValue(step);
    const isRange = range.checked;
    start.disabled = end.disabled = !isRange;
    if (!isRange) {
      const n = numberValue(frames);
      const um = here();
      planned.textContent =
        n && st && um !== undefined
          ? `${n} frames, ${st} µm apart, ${(um - ((n - 1) * st) / 2).toFixed(1)}–${(um + ((n - 1) * st) / 2).toFixed(1)} µm`
          : '';
      return;
    }
    if (s === undefined || e === undefined) {
      planned.textContent = 'Focus on one end, press Set start; on the other, press Set end.';
      return;
    }
    const n = numberValue(frames);
    if (changed === 'frames' && n && n >= 2 && s !== e)
      step.value = String(+(Math.abs(e - s) / (n - 1)).toFixed(3));
    const st2 = numberValue(step);
    if (!st2 || st2 <= 0) {
      planned.textContent = 'The step must be more than 0 µm';
      return;
    }
    const count = planeCount(s, e, st2);
    if (changed === 'range') frames.value = String(count);
    planned.textContent = `${count} frames from ${s} to ${e} µm, ${st2} µm apart`;
  };

  const form = h(
    'form',
    { class: 'panel capture', 'aria-label': 'New stack' },
    h('h2', {}, 'New stack'),
    h(
      'div',
      { class: 'row' },
      h('label', {}, range, ' Start to end'),
      h('label', {}, around, ' Around the current position'),
    ),
    h(
      'div',
      { class: 'row' },
      h('label', {}, 'Start ', start),
      h('button', { type: 'button', onclick: setHere(start) }, 'Set start'),
    ),
    h(
      'div',
      { class: 'row' },
      h('label', {}, 'End ', end),
      h('button', { type: 'button', onclick: setHere(end) }, 'Set end'),
    ),
    h('div', { class: 'row' }, h('label', {}, 'Step, µm ', step), h('label', {}, 'Frames ', frames)),
    planned,
    h(
      'details',
      {},
      h('summary', {}, 'More settings'),
      settings.element,
      h(
        'div',
        { class: 'row' },
        h('label', {}, 'Settle, ms ', settleMs),
        h('label', {}, keepFrames, ' Keep frames (for restacks)'),
      ),
      h('div', { class: 'row' }, h('label', { class: 'wide' }, 'Label ', label)),
    ),
    h('div', { class: 'row' }, startButton),
  );
  for (const input of [start, end, step]) input.addEventListener('input', () => update('range'));
  frames.addEventListener('input', () => update('frames'));
  for (const radio of [range, around]) radio.addEventListener('change', () => update('range'));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const st = numberValue(step);
    if (range.checked && (numberValue(start) === undefined || numberValue(end) === undefined))
      return showMessage('Set the start and the end first, or choose "Around the current position"', 'error');
    const common = {
      ...(Object.keys(settings.value()).length ? { stack: settings.value() } : {}),
      ...(numberValue(settleMs) !== undefined ? { settleMs: numberValue(settleMs) } : {}),
      keepFrames: keepFrames.checked,
      ...(label.value.trim() ? { label: label.value.trim() } : {}),
    };
    const body = range.checked
      ? { start: numberValue(start), end: numberValue(end), step: st, ...common }
      : { frames: numberValue(frames), step: st, ...common };
    startButton.disabled = true;
    // Every job is born queued; it waits only if another one holds the rig.
    const busyWith = currentStatus()?.job?.id;
    void attempt('Start', () => api.post<{ id: string; status: string }>('/api/stacks', body))
      .then((job) => {
        if (!job) return;
        showMessage(busyWith ? `Job ${job.id} queued after ${busyWith}` : `Job ${job.id} started`, 'info');
        onStarted(job.id);
      })
      .finally(() => (startButton.disabled = false));
  });
  update('range');
  return { element: form };
}
