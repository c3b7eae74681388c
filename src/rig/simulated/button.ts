// The simulated microscope's capture button and status LED: the same events and states as the GPIO
// ones, driven from code (the web page's "press" button, tests) and remembered for inspection.
import type { Button, Indicator, IndicatorState, PressKind } from '../types.js';

export class VirtualButton implements Button {
  private readonly listeners = new Set<(kind: PressKind) => void>();

  onPress(listener: (kind: PressKind) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What a finger on the real button would do: a short or a long (held) press. */
  press(kind: PressKind): void {
    for (const listener of this.listeners) listener(kind);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

export class VirtualIndicator implements Indicator {
  /** Every state shown, in order, with the time: tests and the status page read it. */
  readonly history: { state: IndicatorState; at: number }[] = [];
  private current: IndicatorState = 'off';

  get state(): IndicatorState {
    return this.current;
  }

  show(state: IndicatorState): void {
    if (state === this.current) return;
    this.current = state;
    this.history.push({ state, at: Date.now() });
    if (this.history.length > 100) this.history.shift();
  }

  async close(): Promise<void> {
    this.show('off');
  }
}
