import { describe, expect, it } from 'vitest';
import { integrate, makeIntegratedStack } from '../../../src/rig/simulated/pixel-integration.js';
import type { Frame } from '../../../src/stack/types.js';

const frame = (width: number, height: number, value: (x: number, y: number, c: number) => number): Frame => {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = value(x, y, c);
  return { width, height, channels: 3, bitDepth: 8, data };
};

describe('integrate', () => {
  it('keeps a flat field, and averages black and white subpixels in linear light (sRGB 188, not 128)', () => {
    expect(
      Array.from(
        new Set(
          integrate(
            frame(8, 6, () => 90),
            2,
          ).data,
        ),
      ),
    ).toEqual([90]);
    const checker = integrate(
      frame(8, 6, (x, y) => ((x + y) % 2 ? 255 : 0)),
      2,
    );
    expect(checker.width).toBe(4);
    expect(Array.from(new Set(checker.data))).toEqual([188]);
  });
});

describe('makeIntegratedStack', () => {
  const base = { width: 96, height: 72, frames: 3, seed: 3, factor: 2 };

  it('moves the content by exactly the reported transform at camera resolution (content at x shows at x + d)', () => {
    const at = (dx: number, dy: number) => [{ dx, dy, scale: 1, rotationDeg: 0, confidence: 1 }];
    const still = makeIntegratedStack({ ...base, frames: 1, motion: at(0, 0) });
    const moved = makeIntegratedStack({ ...base, frames: 1, motion: at(1, -2) });
    const w = base.width;
    for (let y = 6; y < base.height - 6; y++)
      for (let x = 6; x < w - 6; x++)
        for (let c = 0; c < 3; c++)
          expect(moved.frames[0].data[(y * w + x) * 3 + c]).toBe(
            still.frames[0].data[((y + 2) * w + x - 1) * 3 + c],
          );
  });

  it('reports the motion it rendered, and a truth the size of the frames', () => {
    const stack = makeIntegratedStack({
      ...base,
      motion: { shiftPx: 1.5, scalePerFrame: 0.002, rotationDeg: 0.2 },
    });
    expect(stack.frames).toHaveLength(3);
    expect(stack.truth.width).toBe(base.width);
    expect(stack.transforms[0]).toMatchObject({ dx: 0, dy: 0, scale: 1, rotationDeg: 0 });
    expect(stack.transforms[2].scale).toBeCloseTo(1.004, 6);
    expect(stack.frames[1].data).not.toEqual(stack.frames[0].data);
  });
});
