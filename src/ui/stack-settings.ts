// The stacker's settings as form fields (method, measure, alignment), shared by the capture form and
// the restack form; an empty choice leaves the daemon's configured default.
import { h } from './dom.js';
import { STACK_CHOICES, type StackSettings } from './types.js';

const HELP: Record<keyof typeof STACK_CHOICES, string> = {
  method:
    'depthmap keeps each pixel from its sharpest frame (and gives the depth map); pyramid blends detail',
  measure: 'How sharpness is measured',
  align: 'Line frames up first (focus breathing, wobble)',
};

export interface StackSettingsFields {
  element: HTMLElement;
  value(): StackSettings;
}

export function stackSettingsFields(current: StackSettings = {}): StackSettingsFields {
  const selects = {} as Record<keyof typeof STACK_CHOICES, HTMLSelectElement>;
  const element = h('div', { class: 'row settings' });
  for (const key of Object.keys(STACK_CHOICES) as (keyof typeof STACK_CHOICES)[]) {
    const select = h('select', { name: key, title: HELP[key] }, h('option', { value: '' }, 'default'));
    for (const choice of STACK_CHOICES[key])
      select.append(h('option', { value: choice, selected: current[key] === choice }, choice));
    selects[key] = select;
    element.append(h('label', {}, `${key[0].toUpperCase()}${key.slice(1)} `, select));
  }
  return {
    element,
    value() {
      const settings: StackSettings = {};
      for (const [key, select] of Object.entries(selects))
        if (select.value) settings[key as keyof StackSettings] = select.value;
      return settings;
    },
  };
}
