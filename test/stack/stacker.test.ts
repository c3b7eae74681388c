import { describe, expect, it } from 'vitest';
import { Stacker } from '../../src/stack/stacker.js';
import { METHODS, type Frame, type MeasureName } from '../../src/stack/types.js';
import { blurFrame, makeFrame, region, seeded, std } from '../helpers/frames.js';

async function stack(frames: Frame[], opts: ConstructorParameters<typeof Stacker>[0] = {}) {
  const stacker = new Stacker({ threads: 2, ...opts });
  for (const f of frames) await stacker.add(f);
  return stacker.finish();
}

/** A colourful texture: every pixel differs from its neighbours, so focus is measurable everywhere. */
function texture(width: number, height: number, seed: number): Frame {
  const rnd = seeded(seed);
  const noise = Array.from({ length: width * height }, () => rnd());
  return makeFrame(
    width,
    height,
    3,
    (x, y, c) => 40 + 170 * noise[y * width + x] * (c === 1 ? 0.8 : 1) + c * 10,
  );
}

describe('Stacker', () => {
  it.each(METHODS)('%s: a step edge sharp only in frame 2 comes from frame 2', async (method) => {
    const W = 64,
      H = 48;
    // Left half: a textured step edge that only frame 2 sees sharply; right half flat.
    const sharp = makeFrame(
      W,
      H,
      3,
      (x, y, c) => (x < 32 ? (((x >> 2) + (y >> 2)) % 2 ? 220 : 30) : 128) + c,
    );
    const frames = [4, 2, 0, 2, 4].map((passes) => (passes ? blurFrame(sharp, passes) : sharp));
    const r = await stack(frames, { method });
    const inner = (d: ArrayLike<number>) => region(d, W, 3, 4, 4, 28, 44);
    const got = inner(r.image);
    const want = inner(sharp.data);
    const maxError = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
    expect(maxError).toBeLessThanOrEqual(method === 'depthmap' ? 0 : 12);
    const depths = region(r.depth, W, 1, 4, 4, 28, 44);
    expect(Math.max(...depths.map((d) => Math.abs(d - 2)))).toBeLessThan(0.5);
    expect(Math.min(...region(r.confidence, W, 1, 4, 4, 28, 44))).toBeGreaterThan(150);
  });

  it.each(METHODS)('%s: a flat region stays as quiet as one frame', async (method) => {
    const W = 48,
      H = 40;
    const frames = [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => {
      const rnd = seeded(seed);
      return makeFrame(W, H, 3, () => 120 + (rnd() - 0.5) * 6);
    });
    const r = await stack(frames, { method });
    const single = std(region(frames[0].data, W, 3, 0, 0, W, H));
    const stacked = std(region(r.image, W, 3, 0, 0, W, H));
    expect(stacked).toBeLessThanOrEqual(single * 1.05);
    // Nothing is sharper anywhere: the confidence stays low (noise alone lifts a few pixels).
    const sorted = Array.from(r.confidence).sort((a, b) => a - b);
    // (A textured plane in focus scores ~200: see the step-edge test.)
    expect(sorted[Math.floor(sorted.length * 0.95)]).toBeLessThan(128);
    expect(sorted[sorted.length >> 1]).toBeLessThan(80);
  });

  it.each(METHODS)('%s: every row and column is processed, the bottom fifth included', async (method) => {
    const W = 61,
      H = 53; // odd sizes: bands, pyramid levels and chunks do not divide evenly
    const sharp = texture(W, H, 7);
    const frames = [blurFrame(sharp, 3), sharp, blurFrame(sharp, 3)];
    const r = await stack(frames, { method, threads: 3 });
    const bottom = region(r.image, W, 3, 0, Math.floor(H * 0.8), W, H);
    const want = region(sharp.data, W, 3, 0, Math.floor(H * 0.8), W, H);
    const err = bottom.reduce((s, v, i) => s + Math.abs(v - want[i]), 0) / bottom.length;
    expect(err).toBeLessThan(method === 'depthmap' ? 0.5 : 4);
    const lastColumn = region(r.depth, W, 1, W - 1, 0, W, H);
    const lastRow = region(r.depth, W, 1, 0, H - 1, W, H);
    for (const d of [...lastColumn, ...lastRow]) expect(Math.abs(d - 1)).toBeLessThan(0.5);
  });

  it.each(METHODS)('%s: results do not depend on the number of threads', async (method) => {
    const base = texture(57, 45, 3);
    const frames = [0, 2, 4].map((p) => (p ? blurFrame(base, p) : base)).reverse();
    const one = await stack(frames, { method, threads: 1 });
    const three = await stack(frames, { method, threads: 3 });
    expect(Buffer.from(three.image.buffer).equals(Buffer.from(one.image.buffer))).toBe(true);
    expect(Array.from(three.depth)).toEqual(Array.from(one.depth));
  });

  it('pyramid: a single frame comes back unchanged', async () => {
    const f = texture(50, 38, 11);
    const r = await stack([f], { method: 'pyramid' });
    const diff = Array.from(r.image).map((v, i) => Math.abs(v - f.data[i]));
    expect(Math.max(...diff)).toBeLessThanOrEqual(1);
  });

  it.each(METHODS)('%s: 16-bit grey frames give a 16-bit grey result with full precision', async (method) => {
    const W = 40,
      H = 32;
    const sharp = makeFrame(W, H, 1, (x, y) => 1000 + ((x * 7 + y * 13) % 17) * 3000 + x, 16);
    const r = await stack([blurFrame(sharp, 3), sharp], { method });
    expect(r.bitDepth).toBe(16);
    expect(r.channels).toBe(1);
    expect(r.image).toBeInstanceOf(Uint16Array);
    const got = region(r.image, W, 1, 4, 4, 36, 28);
    const want = region(sharp.data, W, 1, 4, 4, 36, 28);
    const err = got.reduce((s, v, i) => s + Math.abs(v - want[i]), 0) / got.length;
    expect(err).toBeLessThan(method === 'depthmap' ? 1 : 600);
    // 16-bit precision survives: values that are not multiples of 257 (8-bit scaled up) appear.
    expect(got.some((v) => v % 257 !== 0)).toBe(true);
  });

  it('keeps no reference to the frames it was given (constant memory in the frame count)', async () => {
    const base = texture(32, 24, 5);
    const frames = [blurFrame(base, 2), base, blurFrame(base, 2)];
    const copies = frames.map((f) => ({ ...f, data: f.data.slice() }));
    const expected = await stack(copies, { method: 'depthmap' });
    const stacker = new Stacker({ threads: 2, method: 'depthmap' });
    for (const f of frames) {
      await stacker.add(f);
      f.data.fill(0); // the caller reuses its buffer as soon as add() resolves
    }
    const r = await stacker.finish();
    expect(Array.from(r.image)).toEqual(Array.from(expected.image));
  });

  it('names the problem when frames differ in size, the stack is empty, or it is used out of order', async () => {
    const s = new Stacker({ threads: 1 });
    await s.add(texture(20, 10, 1));
    await expect(s.add(texture(21, 10, 1))).rejects.toThrow(/21×10.*20×10/);
    await s.finish();
    await expect(s.add(texture(20, 10, 1))).rejects.toMatchObject({ code: 'STACKER_STATE' });
    await expect(new Stacker({ threads: 1 }).finish()).rejects.toMatchObject({ code: 'STACK_EMPTY' });
    expect(() => new Stacker({ threads: 0 })).toThrow(/threads/);
  });

  it('a worker that fails becomes an error, not a hang', async () => {
    const s = new Stacker({ threads: 2, measure: 'no-such-measure' as MeasureName });
    await expect(s.add(texture(20, 10, 1))).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    await s.close();
  });
});
