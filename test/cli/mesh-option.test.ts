// `stackscope stack --mesh FILE`: the mesh written after the other outputs, in the format of its
// extension, calibrated by --um-per-pixel / --um-per-frame, reported in --json; bad values refused
// before any stacking, naming the flag.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseStackArgs, STACK_USAGE } from '../../src/cli/stack-command.js';
import { cli, ROOT } from '../helpers/cli.js';
import { manifoldProblems, parseStl, weld } from '../mesh/mesh-helpers.js';

const FIXTURES = join(ROOT, 'test/fixtures/scorpion-crop');
// Four frames of the fixture series: enough for a depth map, quick to stack.
const FRAMES = [1, 4, 7, 10].map((n) => join(FIXTURES, `scorpion_lapse_${n}.png`));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackscope-cli-mesh-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stackscope stack --mesh', () => {
  it('writes a watertight STL scaled by the calibration and reports it in the JSON summary', async () => {
    const mesh = join(dir, 'model.stl');
    // prettier-ignore
    const run = await cli([
      'stack', ...FRAMES, '-q', '--json', '-o', join(dir, 'out.jpg'),
      '--mesh', mesh, '--um-per-pixel', '2.5', '--um-per-frame', '12',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.outputs.mesh).toBe(mesh);
    expect(summary.mesh).toMatchObject({ format: 'stl', umPerPixel: 2.5, umPerFrame: 12 });
    expect(summary.mesh.surfaceTriangles).toBeGreaterThan(1);
    expect(summary.mesh.maxErrorUm).toBeGreaterThanOrEqual(0);
    expect(summary.timings.meshMs).toBeGreaterThan(0);
    const data = await readFile(mesh);
    expect(data.length).toBe(summary.mesh.bytes);
    const stl = parseStl(data);
    expect(stl.header).toMatch(/um\/px=2\.5 um\/frame=12 zScale=1 scale=10/);
    const solid = weld(stl.corners);
    expect(manifoldProblems(solid.triangles)).toEqual([]);
    // 384 pixels × 2.5 µm at the default print scale (10): (384 − 1) × 2.5 µm × 10 = 9.575 mm wide.
    const xs = solid.positions.map((p) => p[0]);
    expect(Math.max(...xs) - Math.min(...xs)).toBeCloseTo(9.575, 3);
  });

  it('writes a GLB by its extension', async () => {
    const mesh = join(dir, 'model.glb');
    const run = await cli(['stack', ...FRAMES.slice(0, 2), '-q', '-o', join(dir, 'out.jpg'), '--mesh', mesh]);
    expect(run.code).toBe(0);
    expect((await readFile(mesh)).toString('latin1', 0, 4)).toBe('glTF');
  });

  it('exits 2 for a mesh extension it cannot write, before stacking', async () => {
    const out = join(dir, 'out.jpg');
    const obj = await cli(['stack', ...FRAMES, '-o', out, '--mesh', join(dir, 'model.obj')]);
    expect(obj.code).toBe(2);
    expect(obj.stderr).toMatch(/model\.obj: unsupported extension '\.obj' \(use \.stl, \.ply or \.glb\)/);
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

// The flags' parsing, in process (no child needed to see a message).
describe('parseStackArgs: mesh flags', () => {
  it('defaults the calibration and reads numbers', () => {
    expect(parseStackArgs(['a.png', '--mesh', 'm.ply'])).toMatchObject({
      mesh: 'm.ply',
      umPerPixel: 1,
      umPerFrame: 10,
    });
    expect(parseStackArgs(['a.png', '--um-per-pixel', '0.35', '--um-per-frame', '2.5'])).toMatchObject({
      mesh: undefined,
      umPerPixel: 0.35,
      umPerFrame: 2.5,
    });
  });

  it.each([
    [['--um-per-pixel', '0'], /--um-per-pixel: expected a number of µm greater than 0, got '0'/],
    [['--um-per-frame', 'ten'], /--um-per-frame: expected a number of µm greater than 0, got 'ten'/],
    [['--um-per-frame=-5'], /--um-per-frame: .* got '-5'/],
    [['--mesh', 'model.stl.gz'], /model\.stl\.gz: unsupported extension '\.gz'/],
  ])('refuses %j', (flags, message) => {
    expect(() => parseStackArgs(['a.png', ...flags])).toThrow(message);
  });

  it('documents the options in the usage text', () => {
    expect(STACK_USAGE).toMatch(/--mesh FILE .*\.stl/);
    expect(STACK_USAGE).toMatch(/--um-per-pixel N .*\[1\]/);
    expect(STACK_USAGE).toMatch(/--um-per-frame N .*\[10\]/);
  });
});
