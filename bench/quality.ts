// `npm run bench:quality`: both merges and all measures on synthetic scenes with a known answer,
// against every single frame and a naive per-pixel argmax; PSNR and depth error as JSON under
// bench/results/. The figures in docs/stacking.md come from here.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { alignmentQuality, twelveMegapixelAccuracy } from './alignment-quality.js';
import { apparentMotion } from './apparent-motion.js';
import { externalTools } from './external-tools.js';
import { againstFocusStack } from './focus-stack.js';
import { naiveArgmax, psnr as psnrMax } from '../src/rig/simulated/score.js';
import { makeSyntheticStack, truthDepthFrames, truthImage } from '../src/rig/simulated/stack.js';
import { Stacker } from '../src/stack/stacker.js';
import { MEASURES, METHODS } from '../src/stack/types.js';

const psnr = (a: ArrayLike<number>, b: ArrayLike<number>) => psnrMax(a, b, 255);

const SCENES = [
  { width: 256, height: 192, frames: 10, seed: 11, noise: 0.004 },
  { width: 256, height: 192, frames: 10, seed: 12, noise: 0.004 },
  { width: 1024, height: 768, frames: 12, seed: 3, noise: 0.006 },
];

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
const alignment = await alignmentQuality((line) => process.stderr.write(`${line}\n`));
const apparent = apparentMotion((line) => process.stderr.write(`${line}\n`));
const alignment12Mp = await twelveMegapixelAccuracy((line) => process.stderr.write(`${line}\n`));
const external = await externalTools((line) => process.stderr.write(`${line}\n`));
const focusStack = await againstFocusStack((line) => process.stderr.write(`${line}\n`));
await mkdir(join('bench', 'results'), { recursive: true });
const record = {
  date: new Date().toISOString(),
  kind: 'quality',
  results,
  alignment,
  alignment12Mp,
  externalTools: external,
  focusStack,
  apparentMotion: apparent,
};
await writeFile(
  join('bench', 'results', `quality-${record.date.replace(/[:.]/g, '-')}.json`),
  `${JSON.stringify(record, null, 2)}\n`,
);
process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
