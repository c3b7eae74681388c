// Part of `npm run bench:quality`: issue 3's yardstick. focus-stack (Aimonen; aligns each frame to its
// neighbour by ECC, merges complex wavelets of a grey image, then gives the grey result its colours
// back) against stackscope on the quality bench's 20-frame stacks, both scored against the truth over
// the same field. No registry here packages focus-stack: it runs when a build of it is on PATH or named
// by FOCUS_STACK (several, comma-separated, are compared at once); skipped otherwise. docs/alignment.md
// says how the one measured here was built.
//
// Each tool aligns to its own default reference, which decides the output's geometry: focus-stack's is
// the middle frame, so the stacks are made with the middle frame as the truth's view (stackscope's
// default for file stacks too). A second pair aligns both to the first frame, as the text
// reads and as the rest of the quality bench does.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { rebaseTransforms, viewOverhang, wobbleTransforms } from '../src/rig/simulated/motion.js';
import { makeIntegratedStack, type IntegratedStack } from '../src/rig/simulated/pixel-integration.js';
import type { Frame } from '../src/stack/types.js';
import { MOTION, QUALITY_STACK, stackFrames } from './alignment-quality.js';
import { available, writeFrames } from './external-tools.js';

const run = promisify(execFile);
const BASE = { ...QUALITY_STACK, frames: 20 };
const MIDDLE = BASE.frames >> 1;

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}
/** A picture and where it lies in the truth's frame. */
interface Placed {
  data: ArrayLike<number>;
  rect: Rect;
}

// The scene's colours are saturated and change hue where luminance does not: hard for a merge of a grey
// image that gives colours back afterwards, as focus-stack's is. The same stack in grey (Rec. 601 luma
// of the encoded values, frames and truth alike) takes that away and leaves alignment and merging.
function grey(stack: IntegratedStack): IntegratedStack {
  const toGrey = (f: Frame): Frame => {
    const data = new Uint8Array(f.data.length);
    for (let i = 0; i < data.length; i += 3)
      data[i] =
        data[i + 1] =
        data[i + 2] =
          Math.round(0.299 * f.data[i] + 0.587 * f.data[i + 1] + 0.114 * f.data[i + 2]);
    return { ...f, data };
  };
  return { ...stack, frames: stack.frames.map(toGrey), truth: toGrey(stack.truth) };
}

/** psnrInside's sum, over a rectangle of the truth, for pictures that cover only part of it. */
function psnrIn(picture: Placed, truth: Frame, r: Rect): number {
  const { data, rect } = picture;
  let se = 0;
  for (let y = r.y; y < r.y + r.height; y++)
    for (let x = r.x; x < r.x + r.width; x++)
      for (let c = 0; c < 3; c++) {
        const a = data[((y - rect.y) * rect.width + x - rect.x) * 3 + c];
        se += (a - truth.data[(y * truth.width + x) * 3 + c]) ** 2;
      }
  const db = 10 * Math.log10((255 * 255 * r.width * r.height * 3) / se);
  return Math.round(db * 100) / 100;
}

// focus-stack crops its output to the field every aligned frame covers, and writes nowhere where that
// field starts. Its reference frame is never resampled, so the crop sits at a whole-pixel offset: the
// one at which the picture matches the truth best.
function locate(data: Buffer, width: number, height: number, truth: Frame): Rect {
  let best = { x: 0, y: 0, se: Infinity };
  for (let oy = 0; oy <= truth.height - height; oy++)
    for (let ox = 0; ox <= truth.width - width; ox++) {
      let se = 0;
      for (let y = 0; y < height && se < best.se; y += 2)
        for (let x = 0; x < width; x += 2)
          for (let c = 0; c < 3; c++)
            se +=
              (data[(y * width + x) * 3 + c] - truth.data[((y + oy) * truth.width + x + ox) * 3 + c]) ** 2;
      if (se < best.se) best = { x: ox, y: oy, se };
    }
  return { x: best.x, y: best.y, width, height };
}

function intersect(a: Rect, b: Rect): Rect {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  return {
    x,
    y,
    width: Math.min(a.x + a.width, b.x + b.width) - x,
    height: Math.min(a.y + a.height, b.y + b.height) - y,
  };
}

/** focus-stack as a user runs it (OpenCL off: this machine has none), aligned to frame `reference`. */
async function focusStack(command: string, files: string[], reference: number, output: string, truth: Frame) {
  const args = ['--nocrop', '--no-opencl', `--reference=${reference}`, `--output=${output}`, ...files];
  await run(command, args, { maxBuffer: 1 << 24 });
  const { data, info } = await sharp(output).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, rect: locate(data, info.width, info.height, truth) };
}

/** Every build and both stackscope merges on `stack`, aligned to frame `reference`, over one field. */
async function compare(commands: string[], stack: IntegratedStack, reference: number, dir: string) {
  const { truth } = stack;
  const files = await writeFrames(stack.frames, dir);
  const margin = Math.ceil(viewOverhang(stack.transforms, truth.width, truth.height)) + 2;
  const everyFrameSaw = {
    x: margin,
    y: margin,
    width: truth.width - 2 * margin,
    height: truth.height - 2 * margin,
  };
  const whole = { x: 0, y: 0, width: truth.width, height: truth.height };
  const theirs = [];
  for (let i = 0; i < commands.length; i++) {
    const output = join(dir, `focus-stack-${i}.png`);
    theirs.push({
      command: commands[i],
      ...(await focusStack(commands[i], files, reference, output, truth)),
    });
  }
  // What every focus-stack build kept of the field every frame saw: each output is scored there alone.
  const field = theirs.reduce((f, t) => intersect(f, t.rect), everyFrameSaw);
  const ours: Record<string, number> = {};
  for (const method of ['depthmap', 'pyramid'] as const) {
    const { image } = await stackFrames(stack.frames, 'auto', method, undefined, reference);
    ours[method] = psnrIn({ data: image, rect: whole }, truth, field);
  }
  return {
    field,
    focusStack: theirs.map((t) => ({
      command: t.command,
      outputRect: t.rect,
      psnr: psnrIn(t, truth, field),
    })),
    stackscope: ours,
  };
}

export async function againstFocusStack(log: (line: string) => void) {
  const commands = (process.env.FOCUS_STACK ?? 'focus-stack').split(',');
  const missing = [];
  for (const command of commands) if (!(await available(command))) missing.push(command);
  if (missing.length > 0) {
    const row = { skipped: `focus-stack not found: ${missing.join(', ')} (docs/alignment.md)` };
    log(JSON.stringify(row));
    return row;
  }
  const wobble = wobbleTransforms(BASE.frames, { ...MOTION, seed: BASE.seed });
  const rows = [];
  for (const [stackName, motion, inGrey] of [
    ['still', undefined, false],
    ['wobbling', wobble, false],
    ['wobbling, grey', wobble, true],
  ] as const)
    for (const reference of [MIDDLE, 0]) {
      const made = makeIntegratedStack({ ...BASE, motion: motion && rebaseTransforms(motion, reference) });
      const stack = inGrey ? grey(made) : made;
      const dir = await mkdtemp(join(tmpdir(), 'stackscope-focus-stack-'));
      try {
        const row = {
          stack: stackName,
          frames: BASE.frames,
          reference,
          ...(await compare(commands, stack, reference, dir)),
        };
        log(JSON.stringify(row));
        rows.push(row);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  return rows;
}
