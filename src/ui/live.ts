// The Live view: the latest frame and the running job's progress beside the stage controls and the
// new-stack form; on a phone the three stack up, picture first.
import { captureForm } from './capture-form.js';
import { h } from './dom.js';
import { jogPanel } from './jog.js';
import { liveFrame } from './live-frame.js';

export function mountLive(view: HTMLElement): () => void {
  const frame = liveFrame();
  const jog = jogPanel();
  const form = captureForm((id) => frame.watch(id));
  view.append(
    h(
      'div',
      { class: 'live-layout' },
      frame.element,
      h('div', { class: 'controls' }, jog.element, form.element),
    ),
  );
  return () => {
    frame.dispose();
    jog.dispose();
  };
}
