// Before/after: the stacked image over one captured frame, split by a slider, and a second slider to
// pick which frame — what stacking gained, plane by plane.
import { jobUrl } from './api.js';
import { formatUm, h } from './dom.js';
import type { FrameEntry } from './types.js';

/**
 * `framesJob` is the job whose frames/ holds the frames: the job itself, or for a restack the
 * job it stacked again.
 */
export function beforeAfter(resultSrc: string, framesJob: string, frames: FrameEntry[]): HTMLElement {
  const sorted = [...frames].sort((a, b) => a.index - b.index);
  let chosen = sorted[Math.floor(sorted.length / 2)];
  const before = h('img', { alt: 'A single frame', src: jobUrl(framesJob, `frames/${chosen.index}`) });
  const after = h('img', { alt: 'The stacked image', src: resultSrc, class: 'after' });
  const divider = h('div', { class: 'divider' });
  const split = h('input', {
    type: 'range',
    min: 0,
    max: 100,
    value: 50,
    'aria-label': 'Split between frame and stack',
  });
  const pick = h('input', {
    type: 'range',
    min: 0,
    max: sorted.length - 1,
    value: sorted.indexOf(chosen),
    'aria-label': 'Frame',
  });
  const frameLabel = h('span', { class: 'muted' });

  const showSplit = () => {
    const percent = Number(split.value);
    // The stack covers the right-hand part: left of the line is the single frame.
    after.style.clipPath = `inset(0 0 0 ${percent}%)`;
    divider.style.left = `${percent}%`;
  };
  const showFrame = () => {
    chosen = sorted[Number(pick.value)];
    before.src = jobUrl(framesJob, `frames/${chosen.index}`);
    frameLabel.textContent = `Frame ${chosen.index + 1} of ${sorted.length}${chosen.stageUm === undefined ? '' : ` at ${formatUm(chosen.stageUm)}`}`;
  };
  split.addEventListener('input', showSplit);
  pick.addEventListener('input', showFrame);
  showSplit();
  showFrame();

  const box = h('div', { class: 'compare-box' }, before, after, divider);
  // Dragging on the picture moves the split too (the slider alone is fiddly on a phone).
  box.addEventListener('pointerdown', (event) => {
    const move = (e: PointerEvent) => {
      const r = box.getBoundingClientRect();
      split.value = String(Math.round(((e.clientX - r.left) / r.width) * 100));
      showSplit();
    };
    move(event);
    box.setPointerCapture(event.pointerId);
    box.addEventListener('pointermove', move);
    box.addEventListener('pointerup', () => box.removeEventListener('pointermove', move), { once: true });
  });
  return h(
    'div',
    { class: 'compare' },
    box,
    h('div', { class: 'legend' }, h('span', {}, '◀ single frame'), h('span', {}, 'stacked ▶')),
    h('label', { class: 'wide' }, 'Split ', split),
    h('label', { class: 'wide' }, 'Frame ', pick, ' ', frameLabel),
  );
}
