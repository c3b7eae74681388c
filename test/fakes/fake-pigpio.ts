// A fake pigpio module: records pin writes, the waves built and the chains sent, enforces pigpio's limits
// (pulses per wave and in all live waves, 250 waves, 600 chain bytes), and plays chains on a virtual clock.

import type { PigpioGpioLike, PigpioLike, PigpioPulse } from '../../src/rig/gpio/libraries.js';
import type { PinEvent } from './fake-onoff.js';

const MAX_PULSES = 12_000;
const MAX_WAVES = 250;
const MAX_CHAIN = 600;

/** A decoded chain: waves and delays in the order the DMA sends them. */
export type ChainStep = { wave: number } | { delayUs: number };

/** Decodes waveChain bytes as pigpio does (255 0 … 255 1 x y loops, 255 2 x y delays), loops expanded. */
export function expandChain(chain: readonly number[]): ChainStep[] {
  let i = 0;
  const block = (inLoop: boolean): ChainStep[] => {
    const out: ChainStep[] = [];
    while (i < chain.length) {
      const byte = chain[i];
      if (byte !== 255) {
        out.push({ wave: byte });
        i++;
        continue;
      }
      const command = chain[i + 1];
      if (command === 0) {
        i += 2;
        const body = block(true);
        const count = chain[i + 2] + 256 * chain[i + 3];
        if (chain[i] !== 255 || chain[i + 1] !== 1 || !(count >= 0))
          throw new Error(`loop at byte ${i} not closed`);
        i += 4;
        for (let k = 0; k < count; k++) out.push(...body);
      } else if (command === 1) {
        if (!inLoop) throw new Error(`loop repeat without loop start at byte ${i}`);
        return out;
      } else if (command === 2) {
        out.push({ delayUs: chain[i + 2] + 256 * chain[i + 3] });
        i += 4;
      } else {
        throw new Error(`unsupported chain command 255 ${command}`);
      }
    }
    if (inLoop) throw new Error('chain ended inside a loop');
    return out;
  };
  return block(false);
}

export interface SentChain {
  bytes: number[];
  startUs: number;
  durationUs: number;
  /** Copies of the waves' pulses at send time, by id. */
  waves: Map<number, PigpioPulse[]>;
}

export class FakePigpio {
  readonly timeline: PinEvent[] = [];
  readonly levels = new Map<number, number>();
  readonly modes = new Map<number, { mode?: number; pullUpDown?: number }>();
  readonly live = new Map<number, PigpioPulse[]>();
  readonly created: { id: number; pulses: PigpioPulse[] }[] = [];
  readonly deleted: number[] = [];
  readonly chains: SentChain[] = [];
  readonly stops: number[] = [];
  /** Most pulses alive in all waves at once. */
  peakLivePulses = 0;
  initialized = false;
  /** The interfaces argument of configureInterfaces, and whether it came before initialize(). */
  interfaces: { mask: number; beforeInitialize: boolean } | null = null;
  terminated = false;
  clears = 0;
  readonly module: PigpioLike;
  #pending: PigpioPulse[] = [];
  #txUntilUs = 0;

  constructor(readonly clock: { nowUs(): number }) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const fake = this;
    class Gpio implements PigpioGpioLike {
      static readonly INPUT = 0;
      static readonly OUTPUT = 1;
      static readonly PUD_OFF = 0;
      static readonly PUD_DOWN = 1;
      static readonly PUD_UP = 2;
      readonly #pin: number;
      constructor(pin: number, options: { mode?: number; pullUpDown?: number } = {}) {
        this.#pin = pin;
        fake.modes.set(pin, options);
      }
      digitalWrite(level: number) {
        fake.levels.set(this.#pin, level);
        fake.timeline.push({ pin: this.#pin, value: level ? 1 : 0, tUs: fake.clock.nowUs() });
        return this;
      }
      digitalRead() {
        return fake.levels.get(this.#pin) ?? 0;
      }
    }
    this.module = {
      Gpio,
      DISABLE_FIFO_IF: 1,
      DISABLE_SOCK_IF: 2,
      configureInterfaces: (mask: number) =>
        void (this.interfaces = { mask, beforeInitialize: !this.initialized }),
      initialize: () => void (this.initialized = true),
      terminate: () => void (this.terminated = true),
      waveClear: () => {
        this.clears++;
        this.live.clear();
        this.#pending = [];
      },
      waveAddGeneric: (pulses) => {
        this.#pending.push(...pulses.map((p) => ({ ...p })));
        return this.#pending.length;
      },
      waveCreate: () => this.#create(),
      waveDelete: (id) => {
        if (!this.live.delete(id)) throw new Error(`waveDelete: no wave ${id}`);
        this.deleted.push(id);
      },
      waveChain: (bytes) => this.#chain(bytes),
      waveTxBusy: () => (this.clock.nowUs() < this.#txUntilUs ? 1 : 0),
      waveTxStop: () => {
        this.stops.push(this.clock.nowUs());
        this.#txUntilUs = 0;
      },
    };
  }

  #livePulses(): number {
    return [...this.live.values()].reduce((sum, pulses) => sum + pulses.length, 0);
  }

  #create(): number {
    const pulses = this.#pending;
    this.#pending = [];
    if (pulses.length === 0) throw new Error('waveCreate: empty waveform');
    if (pulses.length > MAX_PULSES) throw new Error(`waveCreate: ${pulses.length} pulses > ${MAX_PULSES}`);
    if (this.#livePulses() + pulses.length > MAX_PULSES)
      throw new Error('waveCreate: too many control blocks');
    let id = 0;
    while (this.live.has(id)) id++;
    if (id >= MAX_WAVES) throw new Error('waveCreate: too many waves');
    this.live.set(id, pulses);
    this.created.push({ id, pulses });
    this.peakLivePulses = Math.max(this.peakLivePulses, this.#livePulses());
    return id;
  }

  #chain(bytes: number[]): void {
    if (bytes.length > MAX_CHAIN) throw new Error(`waveChain: ${bytes.length} bytes > ${MAX_CHAIN}`);
    if (bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) throw new Error('waveChain: not bytes');
    const waves = new Map<number, PigpioPulse[]>();
    let durationUs = 0;
    for (const step of expandChain(bytes)) {
      if ('delayUs' in step) {
        durationUs += step.delayUs;
        continue;
      }
      const pulses = this.live.get(step.wave);
      if (!pulses) throw new Error(`waveChain: no wave ${step.wave}`);
      waves.set(step.wave, pulses);
      for (const p of pulses) durationUs += p.usDelay;
    }
    const startUs = this.clock.nowUs();
    this.chains.push({ bytes: [...bytes], startUs, durationUs, waves });
    this.#txUntilUs = startUs + durationUs;
  }

  /** Times (µs after the chain's start) of the 0→1 edges of `pin` while chain `index` plays in full. */
  chainEdges(index: number, pin: number): number[] {
    const sent = this.chains[index];
    const edges: number[] = [];
    let t = 0;
    let level = 0;
    for (const step of expandChain(sent.bytes)) {
      if ('delayUs' in step) {
        t += step.delayUs;
        continue;
      }
      for (const p of sent.waves.get(step.wave)!) {
        if (p.gpioOn === pin && level === 0) edges.push(t);
        if (p.gpioOn === pin) level = 1;
        if (p.gpioOff === pin) level = 0;
        t += p.usDelay;
      }
    }
    return edges;
  }
}
