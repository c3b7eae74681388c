// Part of `npm run bench:quality`: the same 20-frame wobbling stack through the classic open-source
// pipeline, Hugin's align_image_stack (control points, with magnification optimised: -m) and enfuse
// with focus-stacking weights, scored like ours (Debian: `apt-get install hugin-tools enfuse`).
// Skipped when absent. focus-stack, the yardstick, has its own file (focus-stack.ts).
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { viewOverhang, wobbleTransforms } from '../src/rig/simulated/motion.js';
import { makeIntegratedStack } from '../src/rig/simulated/pixel-integration.js';
import type { Frame } from '../src/stack/types.js';
import { MOTION, QUALITY_STACK, scoreAgainst } from './alignment-quality.js';

const run = promisify(execFile);
const BASE = { ...QUALITY_STACK, frames: 20 };
// enfuse as its manual suggests for focus stacks: local contrast only, each pixel from one frame.
const ENFUSE_FOCUS = [
  '--exposure-weight=0',
  '--saturation-weight=0',
  '--contrast-weight=1',
  '--hard-mask',
  '--contrast-window-size=5',
];

export async function available(command: string): Promise<boolean> {
  try {
    await run('which', [command]);
    return true;
  } catch {
    return false;
  }
}

export async function writeFrames(frames: Frame[], dir: string): Promise<string[]> {
  const files = [];
  for (let i = 0; i < frames.length; i++) {
    const { width, height, channels, data } = frames[i];
    const file = join(dir, `frame_${String(i + 1).padStart(2, '0')}.png`);
    await sharp(data, { raw: { width, height, channels } }).png().toFile(file);
    files.push(file);
  }
  return files;
}

async function enfuse(inputs: string[], output: string): Promise<Buffer> {
  await run('enfuse', [...ENFUSE_FOCUS, `--output=${output}`, ...inputs], { maxBuffer: 1 << 24 });
  // Aligned inputs carry a coverage mask; the fused picture's alpha says nothing about its colours.
  return sharp(output).removeAlpha().raw().toBuffer();
}

export async function externalTools(log: (line: string) => void) {
  const missing = [];
  for (const tool of ['align_image_stack', 'enfuse']) if (!(await available(tool))) missing.push(tool);
  if (missing.length > 0) {
    const row = { skipped: `not installed: ${missing.join(', ')} (apt-get install hugin-tools enfuse)` };
    log(JSON.stringify(row));
    return row;
  }
  // The field every frame of the wobbling stack saw, for both stacks (as alignment-quality.ts scores).
  const wobble = wobbleTransforms(BASE.frames, { ...MOTION, seed: BASE.seed });
  const margin = Math.ceil(viewOverhang(wobble, BASE.width, BASE.height)) + 2;
  const rows = [];
  for (const [name, motion] of [
    ['still', undefined],
    ['wobbling', MOTION],
  ] as const) {
    const stack = makeIntegratedStack({ ...BASE, motion });
    const score = scoreAgainst(stack.truth, margin);
    const dir = await mkdtemp(join(tmpdir(), 'stackscope-external-'));
    try {
      const files = await writeFrames(stack.frames, dir);
      const unaligned = await enfuse(files, join(dir, 'unaligned.tif'));
      const prefix = join(dir, 'aligned_');
      await run('align_image_stack', ['-m', '--use-given-order', '-a', prefix, ...files], {
        maxBuffer: 1 << 24,
      });
      const alignedFiles = (await readdir(dir))
        .filter((f) => f.startsWith('aligned_') && f.endsWith('.tif'))
        .sort()
        .map((f) => join(dir, f));
      const aligned = await enfuse(alignedFiles, join(dir, 'fused.tif'));
      const row = {
        stack: name,
        frames: BASE.frames,
        motion: motion ?? null,
        enfuse: score(unaligned),
        alignImageStackThenEnfuse: score(aligned),
      };
      log(JSON.stringify(row));
      rows.push(row);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
