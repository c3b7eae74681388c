// The Schedules view: timelapse schedules with their next runs and progress, pause/resume, delete,
// and the series' film; says plainly when the daemon has no schedules API.
import { api, ApiError } from './api.js';
import { parseCron, describeCron } from './cron.js';
import { confirmButton, formatTime, h, replace } from './dom.js';
import { attempt, showError, showMessage } from './messages.js';
import { scheduleForm } from './schedule-form.js';

/** A schedule as GET /api/schedules gives it (src/api/routes/schedules.ts, docs/timelapse.md). */
interface Schedule {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  status: 'active' | 'paused' | 'finished';
  nextRuns: string[];
  runs: number;
  maxRuns?: number;
  endAt?: string;
  lastRun?: { run: number; jobId?: string; status: string; dueAt?: string } | null;
  state?: { finishReason?: string; skippedTotal?: number };
}

function inWords(expression: string): string {
  try {
    return describeCron(parseCron(expression));
  } catch {
    return '';
  }
}

function timelapse(schedule: Schedule): HTMLElement {
  const base = `/api/schedules/${encodeURIComponent(schedule.id)}`;
  const image = h('img', { src: `${base}/timelapse.webp`, alt: `Timelapse of ${schedule.name}` });
  const box = h('div', { class: 'timelapse' }, image);
  image.addEventListener('error', () =>
    replace(box, h('p', { class: 'muted' }, 'No film yet: it appears once a run has finished.')),
  );
  // The MP4 exists only where ffmpeg is installed: offered when it is there.
  void api.available(`${base}/timelapse.mp4`).then((ok) => {
    if (ok)
      box.append(
        h('p', {}, h('a', { href: `${base}/timelapse.mp4`, download: `${schedule.id}.mp4` }, 'MP4')),
      );
  });
  return box;
}

function row(schedule: Schedule, reload: () => void): HTMLElement {
  const { status } = schedule;
  const path = `/api/schedules/${encodeURIComponent(schedule.id)}`;
  const film = h('div', { hidden: true });
  const toggleFilm = () => {
    film.hidden = !film.hidden;
    if (!film.hidden && !film.firstChild) film.append(timelapse(schedule));
  };
  const limit = [
    schedule.maxRuns ? `${schedule.maxRuns} runs` : '',
    schedule.endAt ? `until ${formatTime(schedule.endAt)}` : '',
  ].filter(Boolean);
  const last = schedule.lastRun;
  const when =
    status === 'finished'
      ? h(
          'p',
          { class: 'muted' },
          `Finished${schedule.state?.finishReason ? `: ${schedule.state.finishReason}` : ''}.`,
        )
      : status === 'paused'
        ? h('p', { class: 'muted' }, 'Paused: no runs until resumed.')
        : schedule.nextRuns.length
          ? h('p', {}, 'Next: ', schedule.nextRuns.slice(0, 3).map(formatTime).join(' · '))
          : h('p', { class: 'muted' }, 'No run planned.');
  return h(
    'li',
    { class: 'schedule', 'data-schedule': schedule.id },
    h(
      'div',
      { class: 'schedule-head' },
      h('strong', {}, schedule.name),
      h('span', { class: `badge ${status}` }, status),
    ),
    h('code', {}, schedule.cron),
    h('span', { class: 'muted' }, ` ${inWords(schedule.cron)} (${schedule.timezone})`),
    when,
    h(
      'p',
      { class: 'muted' },
      `${schedule.runs} run(s)${limit.length ? ` of ${limit.join(', ')}` : ''}`,
      last?.jobId ? ' · last: ' : '',
      last?.jobId ? h('a', { href: `#/jobs/${last.jobId}` }, `run ${last.run}, ${last.status}`) : null,
    ),
    h(
      'div',
      { class: 'row' },
      status === 'finished'
        ? null
        : h(
            'button',
            {
              type: 'button',
              onclick: () =>
                void attempt(status === 'paused' ? 'Resume' : 'Pause', () =>
                  api.patch(path, { paused: status !== 'paused' }),
                ).then(reload),
            },
            status === 'paused' ? 'Resume' : 'Pause',
          ),
      h('button', { type: 'button', onclick: toggleFilm }, 'Timelapse'),
      confirmButton('Delete', 'Really delete?', async () => {
        const done = await attempt('Delete schedule', () => api.delete(path).then(() => true));
        if (done) showMessage(`Schedule "${schedule.name}" deleted (its stacks stay in Results)`, 'info');
        reload();
      }),
    ),
    film,
  );
}

export function mountSchedules(view: HTMLElement): () => void {
  const list = h('ul', { class: 'schedules' });
  const note = h('p', { class: 'muted' });
  const section = h('section', { class: 'panel' }, h('h2', {}, 'Schedules'), note, list);
  view.append(h('div', { class: 'schedules-layout' }, section));
  let disposed = false;

  const load = async () => {
    let answer: { schedules: Schedule[] };
    try {
      answer = await api.get<{ schedules: Schedule[] }>('/api/schedules');
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        note.textContent =
          'Schedules are not available on this daemon (it has no /api/schedules): update stackscope to use timelapses.';
        return;
      }
      showError(error, 'Schedules');
      return;
    }
    if (disposed) return;
    const { schedules } = answer;
    note.textContent = schedules.length ? '' : 'No schedules yet.';
    replace(list, ...schedules.map((s) => row(s, () => void load())));
    if (!view.querySelector('.schedule-form'))
      view.firstElementChild?.append(scheduleForm(() => void load()));
  };
  void load();
  return () => {
    disposed = true;
  };
}
