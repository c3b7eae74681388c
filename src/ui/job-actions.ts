// A finished job's actions: downloads (each checked, so a missing one says "not available" rather
// than failing on click), restack with other settings, and delete.
import { api, jobUrl } from './api.js';
import { confirmButton, h } from './dom.js';
import { attempt, showMessage } from './messages.js';
import { stackSettingsFields } from './stack-settings.js';
import type { Job } from './types.js';

const DOWNLOADS: { file: string; label: string }[] = [
  { file: 'result.jpg', label: 'Image (JPEG)' },
  { file: 'result.png', label: 'Image (PNG)' },
  { file: 'result.tif', label: 'Image (TIFF)' },
  { file: 'depth.png', label: 'Depth map (16-bit PNG, frame index × 256)' },
  { file: 'depth-preview.png', label: 'Depth preview (colour)' },
  { file: 'confidence.png', label: 'Confidence' },
  { file: 'mesh.glb', label: '3D mesh (GLB, textured)' },
  { file: 'mesh.stl', label: '3D mesh (STL, for printing)' },
  { file: 'mesh.ply', label: '3D mesh (PLY, coloured)' },
];

export function downloads(job: Job): HTMLElement {
  const list = h('ul', { class: 'downloads' });
  for (const { file, label } of DOWNLOADS) {
    const url = jobUrl(job.id, file);
    const item = h('li', {}, h('span', { class: 'muted' }, `${label}: checking…`));
    list.append(item);
    // The PNG and TIFF are made on first request: checking them would make them; offer them as links.
    const made = file === 'result.png' || file === 'result.tif';
    void (made ? Promise.resolve(true) : api.available(url)).then((ok) => {
      item.replaceChildren(
        ok
          ? h('a', { href: url, download: `${job.id}-${file}` }, label)
          : h('span', { class: 'muted unavailable' }, `${label}: not available`),
      );
    });
  }
  return h('section', { class: 'panel' }, h('h3', {}, 'Downloads'), list);
}

export function restackAndDelete(job: Job, canRestack: boolean): HTMLElement {
  const settings = stackSettingsFields(job.params.stack ?? {});
  const label = h('input', { type: 'text', name: 'label', maxlength: 200, value: job.label });
  const restack = h(
    'form',
    { class: 'restack' },
    h('h3', {}, 'Restack'),
    h('p', { class: 'muted' }, 'Stack the kept frames again with other settings, as a new job.'),
    settings.element,
    h('div', { class: 'row' }, h('label', { class: 'wide' }, 'Label ', label)),
    h('button', { type: 'submit', disabled: !canRestack }, 'Restack'),
    canRestack ? null : h('p', { class: 'muted' }, 'Not possible: the frames were not kept.'),
  );
  restack.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = { stack: settings.value(), ...(label.value.trim() ? { label: label.value.trim() } : {}) };
    void attempt('Restack', () => api.post<{ id: string }>(`/api/stacks/${job.id}/restack`, body)).then(
      (started) => {
        if (!started) return;
        showMessage(`Restack ${started.id} queued`, 'info');
        location.hash = `#/jobs/${started.id}`;
      },
    );
  });
  const remove = confirmButton('Delete this job', 'Really delete it?', async () => {
    const done = await attempt('Delete', () => api.delete(`/api/stacks/${job.id}`).then(() => true));
    if (!done) return;
    showMessage(`Job ${job.id} deleted`, 'info');
    location.hash = '#/jobs';
  });
  return h('section', { class: 'panel' }, restack, h('h3', {}, 'Delete'), remove);
}
