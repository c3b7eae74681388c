// The status LED on a GPIO output: plays the blink pattern of the state shown (rig/indicator-patterns.ts)
// with timers, honouring activeLow wiring.

import type { IndicatorConfig } from '../../config/schema.js';
import { INDICATOR_PATTERNS } from '../indicator-patterns.js';
import type { Indicator, IndicatorState } from '../types.js';
import type { DigitalOut } from './libraries.js';

export class GpioIndicator implements Indicator {
  readonly #pin: DigitalOut;
  readonly #activeLow: boolean;
  #state: IndicatorState = 'off';
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(config: Pick<IndicatorConfig, 'activeLow'>, pin: DigitalOut) {
    this.#pin = pin;
    this.#activeLow = config.activeLow;
    this.#set(false);
  }

  get state(): IndicatorState {
    return this.#state;
  }

  /** Showing the state already shown keeps its pattern running rather than restarting it. */
  show(state: IndicatorState): void {
    if (this.#closed || state === this.#state) return;
    this.#state = state;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const pattern = INDICATOR_PATTERNS[state];
    if ('steady' in pattern) {
      this.#set(pattern.steady);
      return;
    }
    const play = (i: number) => {
      this.#set(i % 2 === 0);
      this.#timer = setTimeout(() => play((i + 1) % pattern.cycleMs.length), pattern.cycleMs[i]);
      // An LED must not keep the daemon alive on its own.
      this.#timer.unref();
    };
    play(0);
  }

  #set(on: boolean): void {
    this.#pin.write(on !== this.#activeLow ? 1 : 0);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#set(false);
    this.#state = 'off';
    this.#closed = true;
    this.#pin.close();
  }
}
