// The capture button on a GPIO input: onoff edge interrupts, debounced by requiring the new level to hold,
// and told apart as a short press (released early) or a long press (fired the moment the hold is long enough).

import type { ButtonConfig } from '../../config/schema.js';
import type { Button, PressKind } from '../types.js';
import type { Level, OnoffGpioLike } from './libraries.js';

/** Optional structured logger (pino's Logger fits). */
export interface ButtonLogger {
  warn(details: object, message: string): void;
}

export class GpioButton implements Button {
  readonly #gpio: OnoffGpioLike;
  readonly #config: Pick<ButtonConfig, 'activeLow' | 'debounceMs' | 'longPressMs'>;
  readonly #logger: ButtonLogger | undefined;
  readonly #listeners = new Set<(kind: PressKind) => void>();
  /** The debounced state: changes only once a new level has held for debounceMs. */
  #pressed: boolean;
  /** The current press needs no 'short' on release: its 'long' fired, or it was held at start-up. */
  #pressReported = false;
  #settleTimer: NodeJS.Timeout | undefined;
  #longTimer: NodeJS.Timeout | undefined;
  #closed = false;

  /** `gpio` is an onoff input opened with edge 'both'; the button owns it from now on. */
  constructor(
    config: Pick<ButtonConfig, 'activeLow' | 'debounceMs' | 'longPressMs'>,
    gpio: OnoffGpioLike,
    options: { logger?: ButtonLogger } = {},
  ) {
    this.#gpio = gpio;
    this.#config = config;
    this.#logger = options.logger;
    // A button held at start-up (or a stuck one) fires nothing until released and pressed again.
    this.#pressed = this.#isPressed(gpio.readSync());
    this.#pressReported = this.#pressed;
    gpio.watch(this.#onEdge);
  }

  onPress(listener: (kind: PressKind) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  #isPressed(level: Level): boolean {
    return level === (this.#config.activeLow ? 0 : 1);
  }

  /** Every edge restarts the wait: a bounce shorter than debounceMs never reaches #settle. */
  readonly #onEdge = (err: Error | null | undefined): void => {
    if (this.#closed) return;
    if (err) {
      this.#logger?.warn({ err }, 'button: GPIO interrupt error');
      return;
    }
    clearTimeout(this.#settleTimer);
    this.#settleTimer = setTimeout(this.#settle, this.#config.debounceMs);
    this.#settleTimer.unref();
  };

  readonly #settle = (): void => {
    this.#settleTimer = undefined;
    const pressed = this.#isPressed(this.#gpio.readSync());
    if (pressed === this.#pressed) return;
    this.#pressed = pressed;
    if (pressed) {
      this.#pressReported = false;
      // The press began debounceMs ago, when its level last changed.
      const holdMs = Math.max(0, this.#config.longPressMs - this.#config.debounceMs);
      this.#longTimer = setTimeout(() => {
        this.#longTimer = undefined;
        this.#pressReported = true;
        this.#emit('long');
      }, holdMs);
      this.#longTimer.unref();
    } else {
      clearTimeout(this.#longTimer);
      this.#longTimer = undefined;
      if (!this.#pressReported) this.#emit('short');
    }
  };

  #emit(kind: PressKind): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(kind);
      } catch (err) {
        this.#logger?.warn({ err, kind }, 'button: a press listener threw');
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#settleTimer);
    clearTimeout(this.#longTimer);
    this.#listeners.clear();
    this.#gpio.unwatchAll();
    this.#gpio.unexport();
  }
}
