// The 3D view's own reading of a depth map (src/ui/png16.ts, depth-grid.ts, depth-scale.ts): every
// 16-bit value back from the PNGs the stacker writes, cell means, doubtful cells filled, frame index to µm.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { cellMeans, fillDoubtful, trust } from '../../src/ui/depth-grid.js';
import { depthScale, niceStep } from '../../src/ui/depth-scale.js';
import { decodePng16 } from '../../src/ui/png16.js';
import { depthToUint16, encodeDepthPng, encodeImage } from '../../src/stack/io.js';

describe('decodePng16', () => {
  // Rows of noise and of smooth ramps make the encoder pick every PNG filter (none, sub, up, average, Paeth).
  const width = 37;
  const height = 23;
  const depth = new Float32Array(width * height);
  let seed = 7;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      depth[y * width + x] = y % 3 === 0 ? (seed >>> 16) / 256 : (x * 1.7 + y * 0.9) % 250;
    }

  it('reads back every value of a depth map as the stacker writes it (sub-frame fractions kept)', async () => {
    const png = await decodePng16(new Uint8Array(await encodeDepthPng(depth, width, height)));
    expect([png.width, png.height]).toEqual([width, height]);
    expect(png.data).toEqual(depthToUint16(depth));
    expect(png.data.some((v) => v % 256 !== 0)).toBe(true);
  });

  it('reads the first channel of a 16-bit RGB PNG', async () => {
    const grey = depthToUint16(depth);
    const rgb = new Uint16Array(grey.length * 3);
    grey.forEach((v, i) => rgb.set([v, 65535 - v, 0], i * 3));
    const file = await encodeImage({ width, height, channels: 3, bitDepth: 16, data: rgb }, 'png', {
      compressionLevel: 9,
    });
    expect((await decodePng16(new Uint8Array(file))).data).toEqual(grey);
  });

  it('refuses an 8-bit PNG, so the caller falls back to the canvas', async () => {
    const eight = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    await expect(decodePng16(new Uint8Array(eight))).rejects.toThrow('got bit depth 8, colour type 2');
    await expect(decodePng16(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).rejects.toThrow('not a PNG');
  });
});

describe('the depth grid', () => {
  it('averages each cell and scales it (depth units to frame indices)', () => {
    // 4×2 map onto a 2×1 grid: left cell 0,256,512,768 → mean 384 → 1.5 frames.
    const grid = cellMeans([0, 256, 1024, 1024, 512, 768, 1024, 1024], 4, 2, 2, 1, 1 / 256);
    expect(Array.from(grid.data)).toEqual([1.5, 4]);
  });

  it('replaces doubtful cells by their trusted neighbours and keeps trusted ones', () => {
    const data = new Float32Array([2, 2, 2, 2, 9, 2, 2, 2, 2]);
    const weights = new Float32Array([1, 1, 1, 1, 0, 1, 1, 1, 1]);
    const filled = fillDoubtful({ width: 3, height: 3, data }, weights, 1);
    expect(filled[4]).toBeCloseTo(2, 6);
    expect(Array.from(filled).filter((_, i) => i !== 4)).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
  });

  it('trusts confidence as the stacker does: none below 96, full above 160', () => {
    expect([trust(0), trust(96), trust(128), trust(160), trust(255)]).toEqual([0, 0, 0.5, 1, 1]);
  });
});

describe('depthScale', () => {
  it('maps fractional frame indices onto the stage positions, held at the ends', () => {
    const scale = depthScale([940, 960, 980, 1000]);
    expect(scale.unit).toBe('µm');
    expect(scale.toZ(0)).toBe(940);
    expect(scale.toZ(1.25)).toBe(965);
    expect(scale.toZ(3)).toBe(1000);
    expect(scale.toZ(3.4)).toBe(1000);
    expect(scale.toZ(-1)).toBe(940);
  });

  it('falls back to frames when positions are unknown', () => {
    const scale = depthScale([undefined, 10]);
    expect(scale.unit).toBe('frames');
    expect(scale.toZ(2.5)).toBe(2.5);
  });

  it('picks round ruler steps', () => {
    expect([niceStep(120), niceStep(7), niceStep(1000), niceStep(0.3)]).toEqual([20, 1, 200, 0.05]);
  });
});
