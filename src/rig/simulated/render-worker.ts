// The simulated camera's render thread: holds the specimen scene and its blur levels, and renders the
// frame for a focus position (defocus, noise, wobble, breathing) off the thread that serves the API.
import { parentPort, workerData } from 'node:worker_threads';
import type { SimulatedConfig } from '../../config/schema.js';
import { lowerThreadPriority } from '../../thread-priority.js';
import { createDefocusRenderer, type DefocusRenderer } from './defocus.js';
import { warpFrame } from './motion.js';
import { gaussian, hashSeed, mulberry32 } from './prng.js';
import { makeScene, type Scene } from './scene.js';

/** What a worker builds once and hands back when its camera session ends, so the next one reuses it. */
export interface ParkedScene {
  scene: Scene;
  levels: readonly Uint16Array[];
}

export interface RenderWorkerData {
  config: SimulatedConfig;
  parked?: ParkedScene;
}

export type RenderRequest = { op: 'render'; id: number; focusUm: number; index: number } | { op: 'park' };

export type RenderReply =
  | { op: 'ready' }
  | { op: 'frame'; id: number; width: number; height: number; channels: 1 | 3; data: Uint8Array }
  | { op: 'failed'; id: number; message: string }
  | { op: 'parked'; parked: ParkedScene };

/** The renderer for `config`, built from scratch or around what an earlier worker parked. */
export function buildRenderer(config: SimulatedConfig, parked?: ParkedScene): DefocusRenderer {
  const scene =
    parked?.scene ??
    makeScene({
      width: config.width,
      height: config.height,
      seed: config.seed,
      depthRangeUm: config.depthRangeUm,
    });
  return createDefocusRenderer(scene, {
    blurPxPerUm: config.blurPxPerUm,
    noise: config.noise,
    levels: parked?.levels,
  });
}

/** Capture number `index` with the carriage's focus at `focusUm` (8-bit RGB). */
export function renderCapture(
  renderer: DefocusRenderer,
  config: SimulatedConfig,
  focusUm: number,
  index: number,
): { width: number; height: number; channels: 1 | 3; data: Uint8Array } {
  let frame = renderer.render(focusUm - config.specimenBaseUm, { seed: hashSeed(config.seed, index) });
  const { wobblePx, breathingPerUm } = config;
  if (wobblePx > 0 || breathingPerUm > 0) {
    // Wobble is a property of the stage position (the same step lands the same way), breathing
    // grows with the distance from the specimen's base.
    const rng = mulberry32(hashSeed(config.seed, Math.round(focusUm * 100)));
    frame = warpFrame(frame, {
      dx: wobblePx * gaussian(rng),
      dy: wobblePx * gaussian(rng),
      scale: 1 + breathingPerUm * (focusUm - config.specimenBaseUm),
      rotationDeg: 0,
    });
  }
  return {
    width: frame.width,
    height: frame.height,
    channels: frame.channels,
    data: frame.data as Uint8Array,
  };
}

/** Every distinct, non-empty buffer of a parked scene: each may appear only once in a transfer list. */
export function parkedBuffers(parked: ParkedScene): ArrayBuffer[] {
  const arrays = [parked.scene.texture, parked.scene.depthUm, parked.scene.flatMask, ...parked.levels];
  const buffers = new Set<ArrayBuffer>();
  for (const a of arrays) if (a.byteLength > 0) buffers.add(a.buffer as ArrayBuffer);
  return [...buffers];
}

function serve(): void {
  const port = parentPort!;
  // Rendering takes every idle cycle but yields to the API thread when the cores are busy.
  lowerThreadPriority();
  const { config, parked } = workerData as RenderWorkerData;
  const renderer = buildRenderer(config, parked);
  port.on('message', (request: RenderRequest) => {
    if (request.op === 'park') {
      const handed: ParkedScene = { scene: renderer.scene, levels: renderer.levelArrays() };
      port.postMessage({ op: 'parked', parked: handed } satisfies RenderReply, parkedBuffers(handed));
      return;
    }
    try {
      const frame = renderCapture(renderer, config, request.focusUm, request.index);
      const reply: RenderReply = { op: 'frame', id: request.id, ...frame };
      port.postMessage(reply, [frame.data.buffer as ArrayBuffer]);
    } catch (error) {
      port.postMessage({
        op: 'failed',
        id: request.id,
        message: error instanceof Error ? error.message : String(error),
      } satisfies RenderReply);
    }
  });
  port.postMessage({ op: 'ready' } satisfies RenderReply);
}

if (parentPort && (workerData as RenderWorkerData | undefined)?.config) serve();
