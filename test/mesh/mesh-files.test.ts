// The mesh's file edge: a job folder's depth.png / confidence.png / result.jpg read back as the stack
// wrote them, meshes written atomically beside them, and inputs that cannot make a mesh named.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { meshFormatOf } from '../../src/mesh/encode.js';
import { meshFromStack, readJobDepth, writeMeshFromJob } from '../../src/mesh/mesh-files.js';
import { encodeDepthPng, encodeImage } from '../../src/stack/io.js';
import { manifoldProblems, parseStl, syntheticInput, weld } from './mesh-helpers.js';

const W = 60;
const H = 40;
const input = syntheticInput(
  W,
  H,
  (x, y) => 1 + x / 20 + Math.sin(y / 6),
  (x) => (x < 5 ? 10 : 200),
);

async function writeJobFolder(dir: string, size = { width: W, height: H }): Promise<void> {
  const { width, height } = size;
  await writeFile(join(dir, 'depth.png'), await encodeDepthPng(input.depth, W, H));
  await writeFile(
    join(dir, 'confidence.png'),
    await encodeImage({ width: W, height: H, channels: 1, bitDepth: 8, data: input.confidence }, 'png'),
  );
  const image = new Uint8Array(width * height * 3).fill(90);
  if (width === W) image.set(input.image.data);
  await writeFile(
    join(dir, 'result.jpg'),
    await encodeImage({ width, height, channels: 3, bitDepth: 8, data: image }, 'jpeg'),
  );
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackscope-mesh-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('job folders', () => {
  it('reads the depth map back in frames (1/256 frame steps) with its confidence', async () => {
    await writeJobFolder(dir);
    const { input: read, image } = await readJobDepth(dir);
    expect([read.width, read.height, image.width, image.height]).toEqual([W, H, W, H]);
    for (let i = 0; i < W * H; i++) {
      expect(Math.abs(read.depth[i] - input.depth[i])).toBeLessThanOrEqual(0.5 / 256 + 1e-6);
      expect(read.confidence[i]).toBe(input.confidence[i]);
    }
  });

  it('writes mesh.<format> atomically, leaving no temporary file', async () => {
    await writeJobFolder(dir);
    const summary = await writeMeshFromJob(
      dir,
      'stl',
      { umPerPixel: 2, umPerFrame: 5 },
      { targetTriangles: 500 },
    );
    expect(summary.path).toBe(join(dir, 'mesh.stl'));
    expect(summary.surfaceTriangles).toBeLessThanOrEqual(500);
    expect(summary.calibration).toEqual({ umPerPixel: 2, umPerFrame: 5, zScale: 1 });
    const data = await readFile(summary.path);
    expect(data.length).toBe(summary.bytes);
    expect(manifoldProblems(weld(parseStl(data).corners).triangles)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['confidence.png', 'depth.png', 'mesh.stl', 'result.jpg']);
  });

  it('embeds the job’s own result.jpg as the GLB texture', async () => {
    await writeJobFolder(dir);
    const summary = await writeMeshFromJob(
      dir,
      'glb',
      { umPerPixel: 1, umPerFrame: 1 },
      { name: 'mesh-x.glb' },
    );
    const glb = await readFile(summary.path);
    const jpeg = await readFile(join(dir, 'result.jpg'));
    expect(glb.includes(jpeg)).toBe(true);
  });

  it('names a missing file and a result of another size', async () => {
    await expect(writeMeshFromJob(dir, 'ply', { umPerPixel: 1, umPerFrame: 1 })).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: expect.stringMatching(/depth\.png: no such file/),
    });
    await writeJobFolder(dir, { width: W + 2, height: H });
    await expect(readJobDepth(dir)).rejects.toMatchObject({
      code: 'INPUT_MISMATCH',
      message: expect.stringMatching(/result\.jpg: is 62×40, the depth map 60×40/),
    });
  });
});

describe('meshFromStack', () => {
  it('writes the format its path asks for', async () => {
    const result = { ...input, channels: 3 as const, bitDepth: 8 as const, image: input.image.data };
    const summary = await meshFromStack(result, join(dir, 'out.PLY'), { umPerPixel: 1, umPerFrame: 3 });
    expect(summary.format).toBe('ply');
    expect((await readFile(summary.path)).toString('ascii', 0, 3)).toBe('ply');
  });

  it('refuses an extension it cannot write, naming it', () => {
    expect(() => meshFormatOf('model.obj')).toThrow(
      /model\.obj: unsupported extension '\.obj' \(use \.stl, \.ply or \.glb\)/,
    );
    expect(() => meshFormatOf('model')).toThrow(/'\(none\)'/);
  });
});
