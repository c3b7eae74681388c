// The original project's real stack: the shipped crops always, the full frames when ../shared is
// beside the project (a developer's or CI's checkout; a user's clone skips that part).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeFile, listInputs } from '../../src/stack/io.js';
import { stackFiles } from '../../src/stack/stack-files.js';
import { METHODS, type Frame } from '../../src/stack/types.js';

const fixtures = fileURLToPath(new URL('../fixtures/scorpion-crop', import.meta.url));
const fullStack = fileURLToPath(new URL('../../../shared/data/scorpion-lapse', import.meta.url));

/** Mean squared Laplacian of luminance over the interior: how much fine detail an image holds. */
function sharpness(data: ArrayLike<number>, width: number, height: number): number {
  const lum = (x: number, y: number) => {
    const p = (y * width + x) * 3;
    return 0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2];
  };
  let sum = 0;
  for (let y = 1; y < height - 1; y++)
    for (let x = 1; x < width - 1; x++) {
      const l = 4 * lum(x, y) - lum(x - 1, y) - lum(x + 1, y) - lum(x, y - 1) - lum(x, y + 1);
      sum += l * l;
    }
  return sum / ((width - 2) * (height - 2));
}

describe('scorpion crops (real Pi camera frames, JPEG named .png)', async () => {
  const { files } = await listInputs([fixtures]);
  const frames: Frame[] = await Promise.all(files.map((f) => decodeFile(f)));
  const frameSharpness = frames.map((f) => sharpness(f.data, f.width, f.height));

  it('lists the 14 frames in natural order', () => {
    expect(files.map((f) => f.match(/_(\d+)\.png$/)![1])).toEqual(
      Array.from({ length: 14 }, (_, i) => String(i + 1)),
    );
  });

  it.each(METHODS)(
    '%s: the stack holds more detail than any frame but the sharpest, and most of its detail',
    async (method) => {
      const r = await stackFiles(files, { method, threads: 2 });
      expect([r.width, r.height, r.channels]).toEqual([384, 288, 3]);
      const s = sharpness(r.image, r.width, r.height);
      const sorted = [...frameSharpness].sort((a, b) => b - a);
      expect(s).toBeGreaterThan(sorted[1]);
      expect(s).toBeGreaterThan(0.8 * sorted[0]);
      // Depth stays within the stack; where it lands is alignment's business (the frames breathe).
      expect(Math.min(...r.depth)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...r.depth)).toBeLessThanOrEqual(13);
    },
  );
});

describe.skipIf(!existsSync(fullStack))('scorpion full frames (../shared present)', () => {
  it('stacks all 14 frames at 2592×1944, the bottom fifth included', async () => {
    const { files } = await listInputs([fullStack]);
    expect(files).toHaveLength(14);
    const r = await stackFiles(files, { method: 'depthmap' });
    expect([r.width, r.height]).toEqual([2592, 1944]);
    const first = await decodeFile(files[0]);
    const bottom = Math.floor(r.height * 0.8) * r.width * 3;
    let changed = 0;
    for (let i = bottom; i < r.image.length; i++) if (r.image[i] !== first.data[i]) changed++;
    // The original bug left these rows as they were in the first frame.
    expect(changed / (r.image.length - bottom)).toBeGreaterThan(0.5);
    const depths = new Set<number>();
    for (let p = Math.floor(r.height * 0.8) * r.width; p < r.depth.length; p += 97)
      depths.add(Math.round(r.depth[p]));
    expect(depths.size).toBeGreaterThan(3);
  });
});
