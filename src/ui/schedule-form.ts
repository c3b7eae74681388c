// The new-schedule form: a name, a cron expression read back in words with its next runs in the
// chosen time zone (computed here, as you type), the stack each run captures, and when to stop.
import { api } from './api.js';
import { CronError, describeCron, nextRuns, parseCron } from './cron.js';
import { h, numberValue } from './dom.js';
import { attempt, showMessage } from './messages.js';
import { currentStatus } from './rig-status.js';

const EXAMPLES: [string, string][] = [
  ['*/10 * * * *', 'every 10 minutes'],
  ['0 * * * *', 'hourly'],
  ['30 6 * * *', 'daily 06:30'],
  ['0 9-17 * * 1-5', 'office hours'],
];

function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  return intl.supportedValuesOf?.('timeZone') ?? [];
}

export function scheduleForm(onCreated: () => void): HTMLElement {
  const name = h('input', {
    type: 'text',
    name: 'name',
    required: true,
    maxlength: 100,
    placeholder: 'mould, day 1',
  });
  const cron = h('input', {
    type: 'text',
    name: 'cron',
    required: true,
    value: '*/30 * * * *',
    spellcheck: 'false',
  });
  const zone = h('input', {
    type: 'text',
    name: 'timezone',
    list: 'time-zones',
    value: Intl.DateTimeFormat().resolvedOptions().timeZone,
  });
  const zones = h('datalist', { id: 'time-zones' });
  for (const z of timeZones()) zones.append(h('option', { value: z }));
  const start = h('input', { type: 'number', step: 'any', name: 'start', placeholder: 'µm' });
  const end = h('input', { type: 'number', step: 'any', name: 'end', placeholder: 'µm' });
  const step = h('input', { type: 'number', step: 'any', name: 'step', value: 10, min: 0 });
  const preview = h('div', { class: 'cron-preview', 'aria-live': 'polite' });
  const maxRuns = h('input', { type: 'number', name: 'maxRuns', min: 1, step: 1, placeholder: 'no limit' });
  const keepFrames = h('input', { type: 'checkbox', name: 'keepFrames' });

  const showPreview = () => {
    preview.replaceChildren();
    try {
      // The daemon reads five fields (croner's 5-part mode): no seconds.
      const parsed = parseCron(cron.value, { seconds: false });
      const runs = nextRuns(parsed, zone.value || 'UTC', new Date(), 5);
      const format = new Intl.DateTimeFormat(undefined, {
        timeZone: zone.value || 'UTC',
        weekday: 'short',
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
      });
      preview.append(
        h('strong', {}, describeCron(parsed)),
        h('span', { class: 'muted' }, ` (${zone.value || 'UTC'})`),
        h('ol', {}, ...runs.map((r) => h('li', { 'data-at': r.toISOString() }, format.format(r)))),
      );
    } catch (error) {
      const text = error instanceof CronError || error instanceof RangeError ? error.message : String(error);
      preview.append(h('span', { class: 'warning' }, text));
    }
  };
  cron.addEventListener('input', showPreview);
  zone.addEventListener('change', showPreview);
  const examples = h('div', { class: 'row examples' });
  for (const [expression, label] of EXAMPLES)
    examples.append(
      h(
        'button',
        {
          type: 'button',
          class: 'ghost',
          onclick: () => {
            cron.value = expression;
            showPreview();
          },
        },
        label,
      ),
    );
  const here = (input: HTMLInputElement) => () => {
    const um = currentStatus()?.stage.position.um;
    if (um !== undefined) input.value = String(Math.round(um * 10) / 10);
  };

  const form = h(
    'form',
    { class: 'panel schedule-form', 'aria-label': 'New schedule' },
    h('h2', {}, 'New schedule'),
    h('div', { class: 'row' }, h('label', { class: 'wide' }, 'Name ', name)),
    h('div', { class: 'row' }, h('label', { class: 'wide' }, 'Cron ', cron)),
    examples,
    h('div', { class: 'row' }, h('label', { class: 'wide' }, 'Time zone ', zone), zones),
    preview,
    h('h3', {}, 'Each run stacks'),
    h(
      'div',
      { class: 'row' },
      h('label', {}, 'Start ', start),
      h('button', { type: 'button', onclick: here(start) }, 'Set start'),
      h('label', {}, 'End ', end),
      h('button', { type: 'button', onclick: here(end) }, 'Set end'),
      h('label', {}, 'Step, µm ', step),
    ),
    h(
      'div',
      { class: 'row' },
      h('label', {}, 'End after ', maxRuns, ' runs'),
      h('label', {}, keepFrames, ' Keep each run’s frames'),
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Create schedule'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const s = numberValue(start);
    const e = numberValue(end);
    if (s === undefined || e === undefined)
      return showMessage('Set the start and the end of the stack each run captures', 'error');
    const runs = numberValue(maxRuns);
    const body = {
      name: name.value.trim(),
      cron: cron.value.trim(),
      timezone: zone.value.trim() || 'UTC',
      stack: { start: s, end: e, step: numberValue(step) },
      keepFrames: keepFrames.checked,
      ...(runs === undefined ? {} : { maxRuns: runs }),
    };
    void attempt('Create schedule', () => api.post<{ id: string }>('/api/schedules', body)).then(
      (created) => {
        if (!created) return;
        showMessage(`Schedule "${body.name}" created`, 'info');
        onCreated();
      },
    );
  });
  showPreview();
  return form;
}
