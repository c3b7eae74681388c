// The live view's picture: during a job the stack so far (the running composite, refreshed as frames
// are merged) or the latest captured frame, with progress and Cancel; when idle, the newest result.
import { api, jobUrl } from './api.js';
import { confirmButton, h, replace } from './dom.js';
import { onDaemonEvent } from './live-events.js';
import { attempt, showMessage } from './messages.js';
import { FINISHED_STATUSES, type Job, type Progress } from './types.js';

/** The running composite (depthmap jobs), announced by `preview` in the job's events. */
const RUNNING_PREVIEW_FILE = 'preview.jpg';

interface Watched {
  id: string;
  status: string;
  progress?: Progress;
  latestFrame?: number;
  /** Frames merged into the newest running preview; absent before the first (and for pyramid). */
  preview?: number;
  /** Set when the preview could not be loaded: frames are shown instead. */
  previewFailed?: boolean;
}

export interface LiveFrame {
  element: HTMLElement;
  /** Follows a job just started from this page, before its first event arrives. */
  watch(id: string): void;
  dispose(): void;
}

export function liveFrame(): LiveFrame {
  const image = h('img', { class: 'frame', alt: 'Latest frame' });
  const empty = h('p', { class: 'empty' }, 'No frame yet: run a stack.');
  const caption = h('p', { class: 'caption' });
  const bar = h('progress', { max: 1, value: 0, class: 'job-progress' });
  const progressText = h('span', { class: 'progress-text' });
  const actions = h('span', { class: 'actions' });
  // Stack so far (the point of stacking live) or the latest frame (to check framing and exposure).
  let showStack = true;
  const stackButton = h('button', { type: 'button', class: 'ghost', 'aria-pressed': 'true' }, 'Stack so far');
  const frameButton = h(
    'button',
    { type: 'button', class: 'ghost', 'aria-pressed': 'false' },
    'Latest frame',
  );
  const choose = (stack: boolean) => {
    showStack = stack;
    stackButton.setAttribute('aria-pressed', String(stack));
    frameButton.setAttribute('aria-pressed', String(!stack));
    if (watched) renderJob(watched);
  };
  stackButton.addEventListener('click', () => choose(true));
  frameButton.addEventListener('click', () => choose(false));
  const progressRow = h(
    'div',
    { class: 'progress-row', hidden: true },
    bar,
    progressText,
    h('span', { class: 'toggle' }, stackButton, frameButton),
    actions,
  );
  // While idle: the camera's view where the stage is now, refreshed every two seconds, for framing
  // and rough focus. A job stops it (the daemon refuses previews while the rig is busy).
  const cameraButton = h(
    'button',
    { type: 'button', class: 'ghost', 'aria-pressed': 'false' },
    'Live camera',
  );
  const idleRow = h('div', { class: 'progress-row' }, cameraButton);
  let cameraTimer: number | null = null;
  const stopCamera = () => {
    if (cameraTimer !== null) window.clearInterval(cameraTimer);
    cameraTimer = null;
    cameraButton.setAttribute('aria-pressed', 'false');
  };
  const refreshCamera = () => {
    if (watched) return stopCamera();
    show(`/api/camera/preview.jpg?t=${Date.now()}`, 'Live camera: where the stage is now', () => {
      stopCamera();
      showMessage('The camera preview is not available now (a job may own the rig).', 'error');
    });
  };
  cameraButton.addEventListener('click', () => {
    if (cameraTimer !== null) return stopCamera();
    cameraButton.setAttribute('aria-pressed', 'true');
    refreshCamera();
    cameraTimer = window.setInterval(refreshCamera, 2000);
  });
  const element = h(
    'section',
    { class: 'panel live-frame', 'aria-label': 'Latest frame' },
    h('div', { class: 'frame-box' }, image, empty),
    caption,
    progressRow,
    idleRow,
  );
  let watched: Watched | null = null;
  let shownSrc = '';

  /** Swaps the picture only once the next one has loaded: no blank flash between frames. */
  const show = (src: string, text: string, fallback?: () => void) => {
    caption.textContent = text;
    if (src === shownSrc) return;
    const next = new Image();
    next.onload = () => {
      shownSrc = src;
      image.src = src;
      image.hidden = false;
      empty.hidden = true;
    };
    next.onerror = () => fallback?.();
    next.src = src;
  };

  const renderJob = (job: Watched) => {
    const p = job.progress;
    stopCamera();
    idleRow.hidden = true;
    progressRow.hidden = false;
    if (p && p.total > 0) {
      bar.max = p.total * 2;
      bar.value = p.captured + p.stacked;
      progressText.textContent = `${job.status}: captured ${p.captured}/${p.total}, stacked ${p.stacked}/${p.total}`;
    } else {
      bar.removeAttribute('value');
      progressText.textContent = job.status;
    }
    if (!actions.firstChild)
      replace(
        actions,
        confirmButton('Cancel', 'Cancel the job?', async () => {
          await attempt('Cancel', () => api.delete(`/api/stacks/${job.id}`));
        }),
      );
    const frameText =
      job.latestFrame === undefined ? `Job ${job.id}` : `Job ${job.id}: frame ${job.latestFrame + 1}`;
    const showFrame = () => {
      if (job.latestFrame !== undefined && job.latestFrame >= 0)
        show(jobUrl(job.id, `frames/${job.latestFrame}`), frameText);
    };
    if (showStack && job.preview !== undefined && !job.previewFailed) {
      show(
        `${jobUrl(job.id, RUNNING_PREVIEW_FILE)}?merged=${job.preview}`,
        `Job ${job.id}: the stack so far, ${job.preview} frame(s) merged`,
        () => {
          job.previewFailed = true;
          showFrame();
        },
      );
    } else showFrame();
  };

  const renderFinished = (job: Pick<Job, 'id' | 'status' | 'label'> & { error?: Job['error'] }) => {
    progressRow.hidden = true;
    idleRow.hidden = false;
    actions.replaceChildren();
    const name = job.label || job.id;
    if (job.status === 'done') {
      show(jobUrl(job.id, 'result.jpg'), `Latest result: ${name}`);
      caption.append(' · ', h('a', { href: `#/jobs/${job.id}` }, 'open'));
    } else
      caption.textContent = `Latest job ${name}: ${job.status}${job.error ? ` (${job.error.message})` : ''}`;
  };

  const follow = async (id: string) => {
    const job = await attempt('Latest job', () => api.get<Job>(`/api/stacks/${id}`));
    if (!job) return;
    if (FINISHED_STATUSES.has(job.status)) return renderFinished(job);
    const last = job.frames?.at(-1)?.index;
    // Opened mid-job: a preview exists once a frame was merged (the load falls back if not).
    const preview = job.progress.stacked > 0 ? job.progress.stacked : undefined;
    watched = { id, status: job.status, progress: job.progress, latestFrame: last, preview };
    renderJob(watched);
  };

  const unsubscribe = onDaemonEvent((event) => {
    if (event.type !== 'job') return;
    if (FINISHED_STATUSES.has(event.status)) {
      if (watched?.id !== event.id) return;
      watched = null;
      void follow(event.id);
      if (event.status === 'done')
        showMessage(`Job ${event.id} finished.`, 'info', {
          href: `#/jobs/${event.id}`,
          text: 'Open the result',
        });
      return;
    }
    if (event.status === 'queued' && watched && watched.id !== event.id) return;
    if (!watched || watched.id !== event.id) watched = { id: event.id, status: event.status };
    watched.status = event.status;
    watched.progress = event.progress ?? watched.progress;
    if (event.latestFrame !== undefined) watched.latestFrame = event.latestFrame;
    if (event.preview !== undefined) watched.preview = event.preview;
    renderJob(watched);
  });

  // What to show first: the running job, else the newest result (or what became of the newest job).
  void (async () => {
    const status = await attempt('Status', () => api.get<{ job: { id: string } | null }>('/api/status'));
    if (status?.job) return follow(status.job.id);
    const page = await attempt('Jobs', () => api.get<{ jobs: Job[] }>('/api/stacks?limit=10'));
    const shown = page?.jobs.find((j) => j.status === 'done') ?? page?.jobs[0];
    if (shown && !watched) {
      if (FINISHED_STATUSES.has(shown.status)) renderFinished(shown);
      else await follow(shown.id);
    }
  })();
  image.hidden = true;

  return {
    element,
    watch: (id) => {
      if (!watched || watched.id !== id) void follow(id);
    },
    dispose: () => {
      stopCamera();
      unsubscribe();
    },
  };
}
