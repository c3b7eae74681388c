// A fake onoff module that records every pin change as (pin, value, time) on a virtual clock, and lets
// tests drive inputs (with edge interrupts) and make opening a pin fail; plus the virtual clock and sysfs trees.

import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  Level,
  OnoffDirection,
  OnoffEdge,
  OnoffGpioLike,
  OnoffLike,
} from '../../src/rig/gpio/libraries.js';
import type { PulseClock } from '../../src/rig/gpio/soft-timing.js';

/**
 * Time that moves only when the code under test sleeps or spins, so pulse timelines come out exact.
 * `at(t, fn)` runs fn when time reaches t (e.g. an abort in the middle of a move).
 */
export class VirtualClock implements PulseClock {
  #now = 0;
  #events: { atUs: number; run: () => void }[] = [];
  #spunUs = 0;
  sleeps = 0;
  /** Longest stretch of busy-waiting between two sleeps: how long the event loop was blocked. */
  longestSpinUs = 0;

  nowUs(): number {
    return this.#now;
  }

  async sleep(us: number): Promise<void> {
    this.sleeps++;
    this.#spunUs = 0;
    this.advance(Math.max(0, us));
    await Promise.resolve();
  }

  spinUntil(targetUs: number): void {
    if (targetUs <= this.#now) return;
    this.#spunUs += targetUs - this.#now;
    this.longestSpinUs = Math.max(this.longestSpinUs, this.#spunUs);
    this.advance(targetUs - this.#now);
  }

  at(atUs: number, run: () => void): void {
    this.#events.push({ atUs, run });
    this.#events.sort((a, b) => a.atUs - b.atUs);
  }

  advance(us: number): void {
    const target = this.#now + us;
    while (this.#events.length > 0 && this.#events[0].atUs <= target) {
      const event = this.#events.shift()!;
      this.#now = Math.max(this.#now, event.atUs);
      event.run();
    }
    this.#now = target;
  }
}

export interface PinEvent {
  pin: number;
  value: Level;
  tUs: number;
}

type Watcher = (err: Error | null | undefined, value: Level) => void;

export class FakeOnoff {
  readonly timeline: PinEvent[] = [];
  readonly levels = new Map<number, Level>();
  readonly exported = new Set<number>();
  readonly opened: { pin: number; direction: OnoffDirection; edge?: OnoffEdge }[] = [];
  /** sysfs number → errno code thrown when that pin is opened. */
  readonly failOpen = new Map<number, string>();
  readonly #watchers = new Map<number, Set<Watcher>>();
  readonly #edges = new Map<number, OnoffEdge>();
  readonly module: OnoffLike;

  constructor(readonly clock: { nowUs(): number } = new VirtualClock()) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const fake = this;
    class Gpio implements OnoffGpioLike {
      readonly #pin: number;
      readonly #output: boolean;
      #open = true;
      constructor(pin: number, direction: OnoffDirection, edge?: OnoffEdge) {
        const code = fake.failOpen.get(pin) ?? (fake.exported.has(pin) ? 'EBUSY' : undefined);
        if (code) throw Object.assign(new Error(`${code}: cannot export GPIO ${pin}`), { code });
        this.#pin = pin;
        this.#output = direction !== 'in';
        fake.exported.add(pin);
        fake.opened.push({ pin, direction, edge });
        if (edge) fake.#edges.set(pin, edge);
        if (direction === 'high' || direction === 'low' || direction === 'out') {
          fake.#record(pin, direction === 'high' ? 1 : 0);
        } else if (!fake.levels.has(pin)) {
          fake.levels.set(pin, 0);
        }
      }
      readSync(): Level {
        this.#check();
        return fake.levels.get(this.#pin) ?? 0;
      }
      writeSync(value: Level): void {
        this.#check();
        if (!this.#output) throw new Error(`GPIO ${this.#pin} is an input`);
        fake.#record(this.#pin, value);
      }
      watch(callback: Watcher): void {
        this.#check();
        const set = fake.#watchers.get(this.#pin) ?? new Set();
        set.add(callback);
        fake.#watchers.set(this.#pin, set);
      }
      unwatchAll(): void {
        fake.#watchers.delete(this.#pin);
      }
      unexport(): void {
        this.#check();
        this.unwatchAll();
        this.#open = false;
        fake.exported.delete(this.#pin);
      }
      #check() {
        if (!this.#open) throw new Error(`GPIO ${this.#pin} was unexported`);
      }
    }
    this.module = { Gpio };
  }

  #record(pin: number, value: Level): void {
    this.levels.set(pin, value);
    this.timeline.push({ pin, value, tUs: this.clock.nowUs() });
  }

  /** Sets an input's level, firing its watchers as onoff does for the enabled edge. */
  setInput(pin: number, value: Level): void {
    const before = this.levels.get(pin) ?? 0;
    this.levels.set(pin, value);
    if (before === value) return;
    const edge = this.#edges.get(pin) ?? 'none';
    const fires =
      edge === 'both' || (edge === 'rising' && value === 1) || (edge === 'falling' && value === 0);
    if (!fires) return;
    for (const watcher of [...(this.#watchers.get(pin) ?? [])]) watcher(null, value);
  }

  /** Fires an interrupt error, as epoll may report. */
  failWatch(pin: number, err: Error): void {
    for (const watcher of [...(this.#watchers.get(pin) ?? [])]) watcher(err, this.levels.get(pin) ?? 0);
  }

  watching(pin: number): boolean {
    return (this.#watchers.get(pin)?.size ?? 0) > 0;
  }

  /** The changes of one pin, in order. */
  of(pin: number): PinEvent[] {
    return this.timeline.filter((e) => e.pin === pin);
  }

  /** Times of the 0→1 changes of `pin`. */
  risingEdges(pin: number): number[] {
    let level = 0;
    const edges: number[] = [];
    for (const event of this.of(pin)) {
      if (event.value === 1 && level === 0) edges.push(event.tUs);
      level = event.value;
    }
    return edges;
  }
}

export interface FakeChip {
  label: string;
  base: number;
  ngpio: number;
}

/** sysfs GPIO chips as kernels 6.6+ show them (checked against HARDWARE-NOTES). */
export const PI4_KERNEL_6_6: FakeChip[] = [
  { label: 'pinctrl-bcm2711', base: 512, ngpio: 58 },
  { label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8 },
];
export const PI5_KERNEL_6_6: FakeChip[] = [
  { label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32 },
  { label: 'gpio-brcmstb@107d508520', base: 544, ngpio: 4 },
  { label: 'gpio-brcmstb@107d517c00', base: 548, ngpio: 17 },
  { label: 'gpio-brcmstb@107d517c20', base: 565, ngpio: 6 },
  { label: 'pinctrl-rp1', base: 571, ngpio: 54 },
];

/** A temporary sysfs root (`<root>/class/gpio/gpiochipN/{label,base,ngpio}`, export, unexport). */
export async function makeSysfsTree(chips: FakeChip[]): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'stackscope-sysfs-'));
  const gpio = join(root, 'class', 'gpio');
  await mkdir(gpio, { recursive: true });
  await writeFile(join(gpio, 'export'), '');
  await writeFile(join(gpio, 'unexport'), '');
  for (const chip of chips) {
    const dir = join(gpio, `gpiochip${chip.base}`);
    await mkdir(dir);
    await writeFile(join(dir, 'label'), `${chip.label}\n`);
    await writeFile(join(dir, 'base'), `${chip.base}\n`);
    await writeFile(join(dir, 'ngpio'), `${chip.ngpio}\n`);
  }
  return root;
}
