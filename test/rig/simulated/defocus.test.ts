// Checks the synthetic focus-stack generator: determinism, frame formats, and that blur follows the depth map.
// The stacker's own tests trust these properties, so they are asserted here on small scenes.

import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../src/stack/types.js';
import { blurPlane } from '../../../src/rig/simulated/box-blur.js';
import { createDefocusRenderer } from '../../../src/rig/simulated/defocus.js';
import { makeScene, type Scene } from '../../../src/rig/simulated/scene.js';
import {
  makeSyntheticStack,
  renderSyntheticFrames,
  truthDepthFrames,
  truthImage,
} from '../../../src/rig/simulated/stack.js';

/** Mean over channels, as floats, so RGB and grey frames can be measured alike. */
function grey(frame: Frame): Float32Array {
  const { width, height, channels, data } = frame;
  const out = new Float32Array(width * height);
  for (let p = 0; p < out.length; p++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += data[p * channels + c];
    out[p] = s / channels;
  }
  return out;
}

/** Squared central-difference gradient per pixel (0 on the border). */
function gradientEnergy(g: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const p = y * w + x;
      out[p] = (g[p + 1] - g[p - 1]) ** 2 + (g[p + w] - g[p - w]) ** 2;
    }
  }
  return out;
}

/** Sum of `e` over the (2r+1)² window centred on (x, y). */
function windowSum(e: Float32Array, w: number, x: number, y: number, r: number): number {
  let s = 0;
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) s += e[(y + dy) * w + x + dx];
  return s;
}

const total = (a: Float32Array) => a.reduce((s, v) => s + v, 0);

/** The given scene with its surface flattened to one height, so every pixel shares one blur. */
function flatDepth(scene: Scene, depthUm: number): Scene {
  return { ...scene, depthUm: new Float32Array(scene.width * scene.height).fill(depthUm) };
}

describe('makeScene', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = makeScene({ width: 120, height: 90, seed: 5 });
    const b = makeScene({ width: 120, height: 90, seed: 5 });
    const c = makeScene({ width: 120, height: 90, seed: 6 });
    expect(Buffer.from(a.texture.buffer).equals(Buffer.from(b.texture.buffer))).toBe(true);
    expect(Buffer.from(a.depthUm.buffer).equals(Buffer.from(b.depthUm.buffer))).toBe(true);
    expect(Buffer.from(a.texture.buffer).equals(Buffer.from(c.texture.buffer))).toBe(false);
  });

  it('spans exactly the depth range and keeps the texture in [0, 1]', () => {
    const s = makeScene({ width: 160, height: 120, seed: 2, depthRangeUm: 80 });
    expect(Math.min(...s.depthUm)).toBe(0);
    expect(Math.max(...s.depthUm)).toBe(80);
    expect(Math.min(...s.texture)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...s.texture)).toBeLessThanOrEqual(1);
  });

  it('has a depth step (the plateau rim) besides the smooth surface', () => {
    const s = makeScene({ width: 200, height: 150, seed: 3, depthRangeUm: 100 });
    let maxJump = 0;
    for (let p = 0; p + 1 < s.depthUm.length; p++)
      maxJump = Math.max(maxJump, Math.abs(s.depthUm[p + 1] - s.depthUm[p]));
    expect(maxJump).toBeGreaterThan(15); // a smooth surface moves < 2 µm per pixel at this size
  });

  it('makes flat regions exactly uniform in the truth, and textures everything else', () => {
    const scene = makeScene({ width: 240, height: 180, seed: 9, flatFraction: 0.1 });
    const { width: w, height: h, flatMask } = scene;
    const flat = flatMask.reduce((s, v) => s + v, 0) / (w * h);
    expect(flat).toBeGreaterThan(0.05);
    expect(flat).toBeLessThan(0.15);
    const truth = truthImage(scene, 16, 3);
    const seen = new Set<string>();
    for (let p = 0; p < w * h; p++) {
      if (flatMask[p]) seen.add(Array.from(truth.data.subarray(p * 3, p * 3 + 3)).join());
    }
    expect(seen.size).toBeLessThanOrEqual(2); // at most one colour per flat ellipse
    // Every 12×12 block clear of flat regions has real detail (gradient energy well above 16-bit noise).
    const e = gradientEnergy(grey(truth), w, h);
    for (let by = 1; by + 12 < h; by += 12) {
      for (let bx = 1; bx + 12 < w; bx += 12) {
        let nearFlat = false;
        for (let y = by - 1; y < by + 13 && !nearFlat; y++) {
          for (let x = bx - 1; x < bx + 13; x++)
            if (flatMask[y * w + x] || flatMask[y * w + x + 1]) nearFlat = true;
        }
        if (!nearFlat) expect(windowSum(e, w, bx + 6, by + 6, 5) / 121).toBeGreaterThan(1e5);
      }
    }
    expect(makeScene({ width: 64, height: 48, flatFraction: 0 }).flatMask.every((v) => v === 0)).toBe(true);
  });
});

describe('createDefocusRenderer', () => {
  const scene = makeScene({ width: 128, height: 96, seed: 11, depthRangeUm: 60 });

  it('renders the requested size, channels and bit depth', () => {
    for (const channels of [1, 3] as const) {
      for (const bitDepth of [8, 16] as const) {
        const f = createDefocusRenderer(scene, { channels, bitDepth, noise: 0.01 }).render(30);
        expect([f.width, f.height, f.channels, f.bitDepth]).toEqual([128, 96, channels, bitDepth]);
        expect(f.data).toBeInstanceOf(bitDepth === 8 ? Uint8Array : Uint16Array);
        expect(f.data.length).toBe(128 * 96 * channels);
      }
    }
  });

  it('is deterministic per seed and focus, noise included', () => {
    const a = createDefocusRenderer(scene, { noise: 0.02 }).render(20);
    const b = createDefocusRenderer(scene, { noise: 0.02 }).render(20);
    const c = createDefocusRenderer(scene, { noise: 0.02 }).render(20, { seed: 99 });
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    expect(Buffer.from(a.data).equals(Buffer.from(c.data))).toBe(false);
  });

  it('uses the full 16-bit range and clips bright exposure instead of wrapping', () => {
    const r = createDefocusRenderer(scene, { bitDepth: 16 });
    const normal = r.render(30).data;
    const bright = r.render(30, { exposureGain: 4 }).data;
    expect(Math.max(...normal)).toBeGreaterThan(50000);
    expect(new Set(normal).size).toBeGreaterThan(5000);
    expect(Math.max(...bright)).toBe(65535);
    expect(normal.filter((v, i) => bright[i] < v)).toHaveLength(0);
  });

  it('reproduces the truth image where the surface is exactly in focus with no base blur', () => {
    const flat = flatDepth(scene, 25);
    for (const channels of [1, 3] as const) {
      const frame = createDefocusRenderer(flat, { sigma0: 0, channels, bitDepth: 16 }).render(25);
      expect(
        Buffer.from(frame.data.buffer).equals(Buffer.from(truthImage(flat, 16, channels).data.buffer)),
      ).toBe(true);
    }
  });

  it('blurs monotonically with defocus distance, the same above and below focus', () => {
    const r = createDefocusRenderer(flatDepth(scene, 30), { blurPxPerUm: 0.25, channels: 1, bitDepth: 16 });
    const energy = (focus: number) => total(gradientEnergy(grey(r.render(focus)), 128, 96));
    const e = [0, 2, 4, 8, 16, 30].map((d) => energy(30 + d));
    for (let i = 1; i < e.length; i++) expect(e[i]).toBeLessThan(e[i - 1] * 0.9);
    expect(energy(30 - 8)).toBe(e[3]);
    expect(r.sigmaAt(30, 38)).toBeCloseTo(0.4 + 8 * 0.25, 10);
  });

  it('builds blur levels lazily, only those a frame needs', () => {
    const r = createDefocusRenderer(flatDepth(scene, 10), { blurPxPerUm: 0.1 });
    r.render(10);
    expect(r.builtSigmas()).toEqual([0.4, 1]);
    expect(r.levelBytes()).toBe(2 * 128 * 96 * 3 * 2);
  });

  it('matches a direct blur: exactly below 3 px, within a few % on the shrunk-plane levels', () => {
    // Grey, linear 16-bit, sigma exactly on a ladder level: the frame is that level, encoded losslessly.
    const [w, h] = [256, 192];
    const flat = flatDepth(makeScene({ width: w, height: h, seed: 12 }), 0);
    const t = flat.texture;
    const lum = new Float32Array(w * h).map(
      (_, p) => 0.2126 * t[p * 3] + 0.7152 * t[p * 3 + 1] + 0.0722 * t[p * 3 + 2],
    );
    const opts = { sigma0: 0.4, blurPxPerUm: 1, channels: 1, bitDepth: 16, transfer: 'linear' } as const;
    for (const [sigma, tolerance] of [
      [1.5, 1e-3],
      [2, 1e-3],
      [3, 0.02],
      [6, 0.03],
      [12, 0.04],
    ]) {
      const frame = createDefocusRenderer(flat, opts).render(-(sigma - 0.4));
      const direct = blurPlane(lum, w, h, sigma);
      const mean = total(direct) / direct.length;
      // Shrunk levels replicate edge cells rather than edge pixels: compare away from the border.
      const m = Math.ceil(3 * sigma);
      let err = 0;
      let signal = 0;
      for (let y = m; y < h - m; y++) {
        for (let x = m; x < w - m; x++) {
          err += (frame.data[y * w + x] / 65535 - direct[y * w + x]) ** 2;
          signal += (direct[y * w + x] - mean) ** 2;
        }
      }
      expect(Math.sqrt(err / signal)).toBeLessThan(tolerance);
    }
  });
});

describe('synthetic stacks', () => {
  it('is sharpest, pixel by pixel, in the frame focused at its depth', () => {
    const stack = makeSyntheticStack({
      width: 192,
      height: 144,
      frames: 9,
      seed: 4,
      depthRangeUm: 80,
      noise: 0.003,
    });
    const { scene, frames, focusUm } = stack;
    const { width: w, height: h } = scene;
    expect(focusUm[0]).toBe(0);
    expect(focusUm[8]).toBe(80);
    const truth = truthDepthFrames(scene, focusUm);
    const energies = frames.map((f) => gradientEnergy(grey(f), w, h));
    const r = 3;
    let checked = 0;
    let exact = 0;
    let near = 0;
    for (let y = r + 1; y < h - r - 1; y += 4) {
      for (let x = r + 1; x < w - r - 1; x += 4) {
        // Skip windows touching a flat region (nothing to measure) or spanning a depth step.
        let lo = Infinity;
        let hi = -Infinity;
        let flat = false;
        for (let dy = -r - 1; dy <= r + 1; dy++) {
          for (let dx = -r - 1; dx <= r + 1; dx++) {
            const p = (y + dy) * w + x + dx;
            lo = Math.min(lo, truth[p]);
            hi = Math.max(hi, truth[p]);
            flat ||= scene.flatMask[p] === 1;
          }
        }
        if (flat || hi - lo > 0.5) continue;
        const scores = energies.map((e) => windowSum(e, w, x, y, r));
        const best = scores.indexOf(Math.max(...scores));
        const want = truth[y * w + x];
        checked++;
        if (best === Math.round(want)) exact++;
        if (Math.abs(best - want) <= 1) near++;
      }
    }
    expect(checked).toBeGreaterThan(800);
    expect(exact / checked).toBeGreaterThan(0.9);
    expect(near / checked).toBeGreaterThan(0.98);
  });

  it('yields the same frames one at a time, optionally in one reused buffer', () => {
    const opts = { width: 64, height: 48, frames: 4, seed: 8, bitDepth: 16, channels: 1 } as const;
    const whole = makeSyntheticStack(opts);
    const seen: Frame[] = [];
    for (const { index, focusUm, frame } of renderSyntheticFrames(opts)) {
      expect(focusUm).toBe(whole.focusUm[index]);
      expect(Buffer.from(frame.data.buffer).equals(Buffer.from(whole.frames[index].data.buffer))).toBe(true);
      seen.push(frame);
    }
    expect(seen).toHaveLength(4);
    const buffers = new Set<ArrayBufferLike>();
    for (const { frame } of renderSyntheticFrames({ ...opts, reuseBuffer: true }))
      buffers.add(frame.data.buffer);
    expect(buffers.size).toBe(1);
  });

  it('maps true depth to fractional frame indices', () => {
    const { scene, focusUm, stepUm } = makeSyntheticStack({
      width: 40,
      height: 30,
      frames: 5,
      depthRangeUm: 40,
    });
    expect(stepUm).toBe(10);
    const t = truthDepthFrames(scene, focusUm);
    expect(Math.min(...t)).toBe(0);
    expect(Math.max(...t)).toBe(4);
    expect(t[123]).toBeCloseTo(scene.depthUm[123] / 10, 5);
  });
});
