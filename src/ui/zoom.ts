// A zoomable picture: wheel or pinch to zoom about the pointer, drag to pan, double-click (or the
// buttons) to switch between the whole image and a close look. Pixels stay crisp when enlarged.
import { h } from './dom.js';

const MAX_SCALE = 16;

export function zoomableImage(src: string, alt: string): HTMLElement {
  const image = h('img', { src, alt, draggable: 'false' });
  const stage = h('div', { class: 'zoom-stage' }, image);
  let scale = 1;
  let x = 0;
  let y = 0;

  const apply = () => {
    // Never let the picture leave the frame entirely.
    const w = stage.clientWidth;
    const hgt = stage.clientHeight;
    x = Math.min(0, Math.max(w - w * scale, x));
    y = Math.min(0, Math.max(hgt - hgt * scale, y));
    image.style.transform = `translate(${x}px, ${y}px) scale(${scale})`;
    image.classList.toggle('pixelated', scale > 4);
    label.textContent = `${Math.round(scale * 100)}%`;
  };
  /** Zooms by `factor` keeping the point (px, py) of the stage where it is. */
  const zoomAt = (factor: number, px: number, py: number) => {
    const next = Math.min(MAX_SCALE, Math.max(1, scale * factor));
    x = px - ((px - x) * next) / scale;
    y = py - ((py - y) * next) / scale;
    scale = next;
    apply();
  };
  const centre = () => [stage.clientWidth / 2, stage.clientHeight / 2] as const;

  stage.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      const r = stage.getBoundingClientRect();
      zoomAt(Math.exp(-event.deltaY * 0.002), event.clientX - r.left, event.clientY - r.top);
    },
    { passive: false },
  );
  stage.addEventListener('dblclick', (event) => {
    const r = stage.getBoundingClientRect();
    if (scale > 1) {
      scale = 1;
      x = y = 0;
      apply();
    } else zoomAt(3, event.clientX - r.left, event.clientY - r.top);
  });

  // Pointers: one drags, two pinch.
  const pointers = new Map<number, { x: number; y: number }>();
  let pinchDistance = 0;
  stage.addEventListener('pointerdown', (event) => {
    stage.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
  });
  stage.addEventListener('pointermove', (event) => {
    const last = pointers.get(event.pointerId);
    if (!last) return;
    const now = { x: event.clientX, y: event.clientY };
    pointers.set(event.pointerId, now);
    if (pointers.size === 1) {
      x += now.x - last.x;
      y += now.y - last.y;
      apply();
    } else if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      const distance = Math.hypot(a.x - b.x, a.y - b.y);
      const r = stage.getBoundingClientRect();
      if (pinchDistance > 0)
        zoomAt(distance / pinchDistance, (a.x + b.x) / 2 - r.left, (a.y + b.y) / 2 - r.top);
      pinchDistance = distance;
    }
  });
  const release = (event: PointerEvent) => {
    pointers.delete(event.pointerId);
    pinchDistance = 0;
  };
  stage.addEventListener('pointerup', release);
  stage.addEventListener('pointercancel', release);

  const label = h('span', { class: 'muted' }, '100%');
  const button = (text: string, title: string, act: () => void) =>
    h('button', { type: 'button', title, 'aria-label': title, onclick: act }, text);
  const tools = h(
    'div',
    { class: 'zoom-tools' },
    button('−', 'Zoom out', () => zoomAt(1 / 1.5, ...centre())),
    button('+', 'Zoom in', () => zoomAt(1.5, ...centre())),
    button('Fit', 'Whole image', () => {
      scale = 1;
      x = y = 0;
      apply();
    }),
    label,
  );
  return h('div', { class: 'zoom' }, stage, tools);
}
