// One job's page: what it was (label, status, frames, timings), its progress while it runs, then the
// stacked image (zoomable), depth preview, before/after and 3D tabs, downloads, restack and delete.
import { api, jobUrl } from './api.js';
import { beforeAfter } from './compare.js';
import { confirmButton, formatDuration, formatTime, h, replace } from './dom.js';
import { downloads, restackAndDelete } from './job-actions.js';
import { onDaemonEvent } from './live-events.js';
import { attempt } from './messages.js';
import { FINISHED_STATUSES, type FrameEntry, type Job } from './types.js';
import { viewer3d, type Viewer3d } from './viewer3d.js';
import { zoomableImage } from './zoom.js';

const TABS = ['image', 'depth', 'compare', '3d'] as const;
type Tab = (typeof TABS)[number];
const TAB_NAMES: Record<Tab, string> = {
  image: 'Image',
  depth: 'Depth',
  compare: 'Before/after',
  '3d': '3D',
};

function facts(job: Job): HTMLElement {
  const frames = job.frames?.length ?? job.frameCount ?? job.progress.total;
  const rows: [string, string | Node][] = [
    ['Id', job.id],
    ['Created', formatTime(job.createdAt)],
    ['Kind', job.kind],
    ['Frames', String(frames)],
  ];
  const planes = job.params.planes;
  if (planes?.length)
    rows.push(['Z range', `${Math.min(...planes).toFixed(1)}–${Math.max(...planes).toFixed(1)} µm`]);
  const s = job.params.stack;
  if (s && Object.keys(s).length) rows.push(['Settings', Object.values(s).join(', ')]);
  if (job.timings.totalMs !== undefined) rows.push(['Took', formatDuration(job.timings.totalMs)]);
  if (job.sourceJobId)
    rows.push(['Restack of', h('a', { href: `#/jobs/${job.sourceJobId}` }, job.sourceJobId)]);
  if (job.params.schedule) rows.push(['Schedule run', String(job.params.schedule.run)]);
  if (job.error) rows.push(['Error', `${job.error.message} (${job.error.code})`]);
  if (job.note) rows.push(['Note', job.note]);
  const list = h('dl', { class: 'facts' });
  for (const [term, value] of rows) list.append(h('dt', {}, term), h('dd', {}, value));
  return list;
}

/** While a job runs: the stack so far (depthmap jobs), else its latest frame. */
function runningPicture(job: Job): HTMLElement | null {
  const last = job.frames?.at(-1);
  const frame = last ? jobUrl(job.id, `frames/${last.index}`) : null;
  if (job.progress.stacked === 0)
    return frame ? h('img', { class: 'frame', src: frame, alt: 'Latest frame' }) : null;
  const image = h('img', {
    class: 'frame',
    src: `${jobUrl(job.id, 'preview.jpg')}?merged=${job.progress.stacked}`,
    alt: 'The stack so far',
  });
  image.addEventListener('error', () => (frame ? (image.src = frame) : image.remove()), { once: true });
  return image;
}

/** The frames to compare against and the positions they were taken at (a restack's are its source's). */
async function framesOf(job: Job): Promise<{ owner: string; frames: FrameEntry[]; deleted: boolean }> {
  if (job.kind !== 'restack' || !job.sourceJobId)
    return { owner: job.id, frames: job.frames ?? [], deleted: job.framesDeleted ?? false };
  const source = await api.get<Job>(`/api/stacks/${job.sourceJobId}`).catch(() => null);
  return {
    owner: job.sourceJobId,
    frames: source?.frames ?? [],
    deleted: source ? (source.framesDeleted ?? false) : true,
  };
}

export function mountJobPage(view: HTMLElement, id: string, initialTab: string | undefined): () => void {
  const body = h('div', { class: 'job-page' }, h('p', { class: 'muted' }, 'Loading…'));
  view.append(body);
  let viewer: Viewer3d | null = null;
  let disposed = false;

  const render = async () => {
    const job = await attempt(`Job ${id}`, () => api.get<Job>(`/api/stacks/${id}`));
    if (disposed) return;
    if (!job)
      return replace(body, h('p', {}, 'No such job. ', h('a', { href: '#/jobs' }, 'Back to the results')));
    const title = h(
      'div',
      { class: 'job-title' },
      h('a', { href: '#/jobs' }, '← Results'),
      h('h2', {}, job.label || job.id),
      h('span', { class: `badge ${job.status}` }, job.status),
    );
    const about = h('section', { class: 'panel' }, h('h3', {}, 'About'), facts(job));
    if (!FINISHED_STATUSES.has(job.status)) {
      const p = job.progress;
      replace(
        body,
        title,
        h(
          'div',
          { class: 'job-grid' },
          h(
            'section',
            { class: 'panel' },
            h('progress', { max: p.total * 2 || 1, value: p.captured + p.stacked }),
            h('p', {}, `${job.status}: captured ${p.captured}/${p.total}, stacked ${p.stacked}/${p.total}`),
            runningPicture(job),
            confirmButton('Cancel', 'Cancel the job?', async () => {
              await attempt('Cancel', () => api.delete(`/api/stacks/${job.id}`));
            }),
          ),
          h('div', { class: 'job-side' }, about),
        ),
      );
      return;
    }
    const { owner, frames, deleted } = await framesOf(job);
    if (disposed) return;
    const positions: (number | undefined)[] = [];
    for (const f of frames) positions[f.index] = f.stageUm;
    const planes = job.params.planes ?? [];
    const zPositions = positions.length >= 2 && positions.every((p) => p !== undefined) ? positions : planes;

    const done = job.status === 'done';
    const panes: Record<Tab, () => HTMLElement> = {
      image: () => zoomableImage(jobUrl(job.id, 'result.jpg'), 'The stacked image'),
      depth: () =>
        h(
          'div',
          {},
          zoomableImage(jobUrl(job.id, 'depth-preview.png'), 'Depth preview'),
          h(
            'p',
            { class: 'muted' },
            'Colours run from the first frame to the last: where each pixel was sharpest.',
          ),
        ),
      compare: () =>
        deleted || frames.length === 0
          ? h('p', { class: 'muted' }, 'Not available: the frames were not kept (or retention removed them).')
          : beforeAfter(jobUrl(job.id, 'result.jpg'), owner, frames),
      '3d': () => {
        viewer?.dispose();
        viewer = viewer3d(job.id, zPositions);
        return viewer.element;
      },
    };
    const pane = h('div', { class: 'pane' });
    const tabBar = h('div', { class: 'tabs', role: 'tablist' });
    const open = (tab: Tab) => {
      if (tab !== '3d') {
        viewer?.dispose();
        viewer = null;
      }
      for (const b of tabBar.children)
        b.setAttribute('aria-selected', String(b.getAttribute('data-tab') === tab));
      replace(pane, panes[tab]());
      // The address keeps the tab, so a link can open the 3D view directly.
      history.replaceState(null, '', `#/jobs/${job.id}${tab === 'image' ? '' : `/${tab}`}`);
    };
    for (const tab of TABS)
      tabBar.append(
        h(
          'button',
          { type: 'button', role: 'tab', 'data-tab': tab, onclick: () => open(tab) },
          TAB_NAMES[tab],
        ),
      );
    replace(
      body,
      title,
      h(
        'div',
        { class: 'job-grid' },
        done
          ? h('section', { class: 'panel' }, tabBar, pane)
          : h('section', { class: 'panel' }, h('p', {}, `This job ended ${job.status}: it has no result.`)),
        h(
          'div',
          { class: 'job-side' },
          about,
          done ? downloads(job) : null,
          restackAndDelete(job, !deleted && frames.length >= 2),
        ),
      ),
    );
    if (done) open(TABS.includes(initialTab as Tab) ? (initialTab as Tab) : 'image');
  };
  void render();

  // While it runs the page follows it; when it ends, the page becomes the result page.
  let again: number | undefined;
  const unsubscribe = onDaemonEvent((event) => {
    if (event.type !== 'job' || event.id !== id) return;
    const finished = FINISHED_STATUSES.has(event.status);
    // At most two renders a second while frames pour in; the final one at once.
    if (again !== undefined && !finished) return;
    window.clearTimeout(again);
    again = window.setTimeout(
      () => {
        again = undefined;
        void render();
      },
      finished ? 0 : 500,
    );
  });
  return () => {
    disposed = true;
    unsubscribe();
    window.clearTimeout(again);
    viewer?.dispose();
  };
}
