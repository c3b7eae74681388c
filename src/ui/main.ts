// The page's entry: a hash router over the views (Live, Results, one job, Schedules), the header's
// rig status line and the token button. Each view returns a cleanup run when the next one mounts.
import { formatUm } from './dom.js';
import { mountGallery } from './gallery.js';
import { mountJobPage } from './job-page.js';
import { mountLive } from './live.js';
import { onConnection } from './live-events.js';
import { onStatus } from './rig-status.js';
import { mountSchedules } from './schedules.js';
import { installTokenButton } from './token.js';

function byId(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html lacks #${id}`);
  return element;
}

const view = byId('view');
let cleanup: (() => void) | null = null;

function route(): void {
  cleanup?.();
  view.replaceChildren();
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [section = 'live', id, tab] = parts;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a'))
    link.toggleAttribute('aria-current', link.dataset.nav === section);
  if (section === 'jobs' && id) cleanup = mountJobPage(view, decodeURIComponent(id), tab);
  else if (section === 'jobs') cleanup = mountGallery(view);
  else if (section === 'schedules') cleanup = mountSchedules(view);
  else cleanup = mountLive(view);
  document.title = `stackscope · ${section === 'jobs' && id ? id : section}`;
}

function installStatusLine(): void {
  const line = byId('status-line');
  const dot = byId('connection');
  onConnection((connected) => {
    dot.classList.toggle('on', connected);
    dot.title = connected ? 'Live updates connected' : 'Live updates reconnecting…';
  });
  onStatus((status, error) => {
    if (error || !status) {
      line.textContent = 'Daemon unreachable';
      line.classList.add('warning');
      return;
    }
    line.classList.remove('warning');
    const job = status.job ? `${status.job.status} ${status.job.id}` : 'idle';
    const queue = status.queued ? ` · ${status.queued} queued` : '';
    const certain = status.stage.position.certain ? '' : ' (uncertain)';
    line.textContent = `${status.rig.kind} rig · ${formatUm(status.stage.position.um)}${certain} · ${job}${queue}`;
  });
}

installTokenButton(byId('token-button'));
installStatusLine();
window.addEventListener('hashchange', route);
route();
