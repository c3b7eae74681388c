// Benchmark inputs: a synthetic 12 MP stack rendered once and kept as camera-like JPEG files under
// .cache/ (rendering takes tens of seconds; the original project recomputed such intermediates on
// every run, which is one of the flaws this project fixes).
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { renderSyntheticFrames } from '../src/rig/simulated/stack.js';

export interface BenchStackSpec {
  width: number;
  height: number;
  frames: number;
  seed: number;
  /** A wobbling, breathing stack (stage shift, focus breathing, a little rotation) for alignment. */
  motion?: { shiftPx: number; scalePerFrame: number; rotationDeg: number };
}

export async function benchFrames(spec: BenchStackSpec, log: (line: string) => void): Promise<string[]> {
  const dir = join(
    '.cache',
    'bench',
    `synthetic-${spec.width}x${spec.height}-${spec.frames}-seed${spec.seed}${motionTag(spec)}`,
  );
  const done = join(dir, 'complete');
  if (!existsSync(done)) {
    await mkdir(dir, { recursive: true });
    const started = performance.now();
    for (const { index, frame } of renderSyntheticFrames({ ...spec, noise: 0.006, reuseBuffer: true })) {
      const name = join(dir, `frame_${index + 1}.jpg`);
      // Quality 93 is rpicam-still's default: these frames weigh what a Pi camera's do.
      await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: frame.channels } })
        .jpeg({ quality: 93 })
        .toFile(`${name}.tmp`);
      await rename(`${name}.tmp`, name);
      log(`rendered ${index + 1}/${spec.frames} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
    await mkdir(done);
  }
  const names = (await readdir(dir)).filter((n) => n.endsWith('.jpg'));
  names.sort(new Intl.Collator(undefined, { numeric: true }).compare);
  return names.map((n) => join(dir, n));
}

/** Part of the cache folder's name: a wobbling stack must never be served the still one's frames. */
function motionTag(spec: BenchStackSpec): string {
  const m = spec.motion;
  return m ? `-wobble${m.shiftPx}px-scale${m.scalePerFrame}-rot${m.rotationDeg}deg` : '';
}
