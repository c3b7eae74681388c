// `npm run bench:quality`: both merges and all measures on synthetic scenes with a known answer,
// against every single frame and a naive per-pixel argmax; PSNR and depth error as JSON under
// bench/results/. The figures in docs/stacking.md come from here.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeSyntheticStack, truthDepthFrames, truthImage } from '../src/rig/simulated/stack.js';
import { Stacker } from '../src/stack/stacker.js';
import { MEASURES, METHODS, type Frame } from '../src/stack/types.js';

const SCENES = [
  { width: 256, height: 192, frames: 10, seed: 11, noise: 0.004 },
  { width: 256, height: 192, frames: 10, seed: 12, noise: 0.004 },
  { width: 1024, height: 768, frames: 12, seed: 3, noise: 0.006 },
];

function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (se / a.length));
}

/** The original experiment's rule without windows or filters: per pixel, the frame of largest |Laplacian|. */
function naiveArgmax(frames: Frame[]): Uint8Array {
  const { width: w, height: h } = frames[0];
  const best = new Float32Array(w * h).fill(-1);
  const out = new Uint8Array(w * h * 3);
  for (const f of frames) {
    const lum = (x: number, y: number) => {
      const p = (Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))) * 3;
      return 0.299 * f.data[p] + 0.587 * f.data[p + 1] + 0.114 * f.data[p + 2];
    };
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const l = Math.abs(4 * lum(x, y) - lum(x - 1, y) - lum(x + 1, y) - lum(x, y - 1) - lum(x, y + 1));
        const p = y * w + x;
        if (l > best[p]) {
          best[p] = l;
          out.set(f.data.subarray(p * 3, p * 3 + 3), p * 3);
        }
      }
  }
  return out;
}

const round = (v: number) => Math.round(v * 100) / 100;
const results = [];
for (const scene of SCENES) {
  const stack = makeSyntheticStack(scene);
  const truth = truthImage(stack.scene);
  const trueDepth = truthDepthFrames(stack.scene, stack.focusUm);
  const row: Record<string, unknown> = {
    scene,
    bestSingleFrame: round(Math.max(...stack.frames.map((f) => psnr(f.data, truth.data)))),
    naiveArgmax: round(psnr(naiveArgmax(stack.frames), truth.data)),
  };
  for (const method of METHODS)
    for (const measure of MEASURES) {
      const stacker = new Stacker({ method, measure });
      for (const f of stack.frames) await stacker.add(f);
      const r = await stacker.finish();
      const errors = Array.from(r.depth, (d, p) => Math.abs(d - trueDepth[p])).sort((a, b) => a - b);
      row[`${method}/${measure}`] = {
        psnr: round(psnr(r.image, truth.data)),
        depthErrorMedianFrames: round(errors[errors.length >> 1]),
        depthErrorP90Frames: round(errors[Math.floor(errors.length * 0.9)]),
      };
    }
  results.push(row);
  process.stderr.write(`${JSON.stringify(row)}\n`);
}
await mkdir(join('bench', 'results'), { recursive: true });
const record = { date: new Date().toISOString(), kind: 'quality', results };
await writeFile(
  join('bench', 'results', `quality-${record.date.replace(/[:.]/g, '-')}.json`),
  `${JSON.stringify(record, null, 2)}\n`,
);
process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
