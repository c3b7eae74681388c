// The Results view: every job, newest first, as cards with the stacked image and status; pages of
// 24 with "More"; refreshed when a job starts or ends.
import { api, jobUrl } from './api.js';
import { formatTime, h, replace } from './dom.js';
import { onDaemonEvent } from './live-events.js';
import { attempt } from './messages.js';
import type { Job } from './types.js';

const PAGE = 24;

function card(job: Job): HTMLElement {
  const picture =
    job.status === 'done'
      ? h('img', { src: jobUrl(job.id, 'result.jpg'), alt: job.label || job.id, loading: 'lazy' })
      : h('div', { class: 'placeholder' }, job.status);
  const frames = job.frameCount ?? job.frames?.length ?? job.progress.total;
  const schedule = job.params.schedule;
  return h(
    'a',
    { class: 'card', href: `#/jobs/${job.id}`, 'data-job': job.id },
    picture,
    h(
      'div',
      { class: 'card-text' },
      h('strong', {}, job.label || job.id),
      h('span', { class: `badge ${job.status}` }, job.status),
      h(
        'span',
        { class: 'muted' },
        `${formatTime(job.createdAt)} · ${frames} frames · ${job.kind}`,
        schedule ? ` · run ${schedule.run}` : '',
      ),
    ),
  );
}

export function mountGallery(view: HTMLElement): () => void {
  const grid = h('div', { class: 'gallery' });
  const more = h('button', { type: 'button', hidden: true }, 'More');
  const empty = h('p', { class: 'empty', hidden: true }, 'No stacks yet. Run one from the Live view.');
  view.append(h('section', { class: 'panel' }, h('h2', {}, 'Results'), empty, grid, more));
  let next: string | undefined;

  const load = async (reset: boolean) => {
    const query = `limit=${PAGE}${!reset && next ? `&before=${next}` : ''}`;
    const page = await attempt('Results', () =>
      api.get<{ jobs: Job[]; next?: string }>(`/api/stacks?${query}`),
    );
    if (!page) return;
    if (reset) replace(grid);
    grid.append(...page.jobs.map(card));
    next = page.next;
    more.hidden = !next;
    empty.hidden = grid.childElementCount > 0;
  };
  more.addEventListener('click', () => void load(false));
  void load(true);

  let refresh: number | undefined;
  const unsubscribe = onDaemonEvent((event) => {
    if (event.type !== 'job' || event.status === 'capturing' || event.status === 'stacking') return;
    // A burst of events (a queue emptying) becomes one reload.
    window.clearTimeout(refresh);
    refresh = window.setTimeout(() => void load(true), 300);
  });
  return () => {
    unsubscribe();
    window.clearTimeout(refresh);
  };
}
