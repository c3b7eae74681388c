// `stackscope stack` end to end: the real CLI in a child process, checked against the contract
// (exit codes, messages naming the file or flag, JSON summary, outputs, progress on stderr).
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli as runCli, ROOT } from '../helpers/cli.js';
import { makeFrame, seeded } from '../helpers/frames.js';

const FIXTURES = join(ROOT, 'test/fixtures/scorpion-crop');
const FRAMES = 14;

const cli = (...args: string[]) => runCli(args);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackscope-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fixture = (n: number) => join(FIXTURES, `scorpion_lapse_${n}.png`);

async function readGrey16(path: string): Promise<Uint16Array> {
  const data = await sharp(path).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer();
  return new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
}

describe('stackscope stack: the fixture series', () => {
  it('stacks the folder and writes every output with a JSON summary', { timeout: 90_000 }, async () => {
    const out = {
      image: join(dir, 'out.jpg'),
      depthMap: join(dir, 'd.png'),
      depthPreview: join(dir, 'p.png'),
      confidence: join(dir, 'c.png'),
    };
    // prettier-ignore
    const run = await cli(
      'stack', 'test/fixtures/scorpion-crop', '--json',
      '-o', out.image, '--depth-map', out.depthMap,
      '--depth-preview', out.depthPreview, '--confidence', out.confidence,
    );
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);

    const summary = JSON.parse(run.stdout);
    expect(summary.inputs.map((f: string) => basename(f))).toEqual(
      Array.from({ length: FRAMES }, (_, i) => `scorpion_lapse_${i + 1}.png`),
    );
    expect(summary).toMatchObject({ width: 384, height: 288, depthUnitsPerFrame: 256, frames: FRAMES });
    expect(summary.alignment).toHaveLength(FRAMES);
    expect(summary.timings.totalMs).toBeGreaterThan(0);
    expect(summary.outputs).toEqual(out);

    for (const path of Object.values(out)) {
      const meta = await sharp(path).metadata();
      expect({ path, width: meta.width, height: meta.height }).toEqual({ path, width: 384, height: 288 });
    }
    expect(await sharp(out.confidence).metadata()).toMatchObject({ channels: 1, depth: 'uchar' });

    const depthMeta = await sharp(out.depthMap).metadata();
    expect(depthMeta).toMatchObject({ format: 'png', depth: 'ushort', channels: 1 });
    const depth = await readGrey16(out.depthMap);
    let min = Infinity;
    let max = -Infinity;
    for (const v of depth) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThanOrEqual((FRAMES - 1) * 256);
    // A real focus series puts different parts of the scorpion in focus in different frames.
    expect(max).toBeGreaterThan(min);
  });

  it(
    'aligns to the middle frame with --align similarity --reference middle and reports every transform',
    { timeout: 90_000 },
    async () => {
      const run = await cli(
        'stack',
        FIXTURES,
        '--json',
        '--align',
        'similarity',
        '--reference',
        'middle',
        '-o',
        join(dir, 'aligned.jpg'),
      );
      expect(run.code).toBe(0);
      const summary = JSON.parse(run.stdout);
      expect(summary.referenceFile).toMatch(/scorpion_lapse_7\.png$/);
      expect(summary.alignment).toHaveLength(14);
      const reference = summary.alignment[6];
      expect(reference).toMatchObject({
        dx: 0,
        dy: 0,
        scale: 1,
        rotationDeg: 0,
        source: 'reference',
        trusted: true,
      });
      for (const a of summary.alignment) {
        for (const key of ['dx', 'dy', 'scale', 'rotationDeg', 'confidence'])
          expect(Number.isFinite(a[key])).toBe(true);
        expect(a.gains).toHaveLength(3);
      }
      expect(summary.timings.alignMs).toHaveLength(14);
    },
  );

  it('prints one progress line per frame on a non-TTY stderr', async () => {
    const run = await cli('stack', 'test/fixtures/scorpion-crop', '-o', join(dir, 'out.jpg'));
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    const lines = run.stderr.split('\n').filter((l) => /^\[\d+\/\d+\] /.test(l));
    expect(lines).toHaveLength(FRAMES);
    lines.forEach((line, i) => expect(line).toMatch(new RegExp(`^\\[${i + 1}/${FRAMES}\\] \\S`)));
    expect(lines[2]).toContain('scorpion_lapse_3.png');
  });
});

describe('stackscope stack: bad arguments exit 2 naming the flag', () => {
  const folder = 'test/fixtures/scorpion-crop';
  const cases: [string, string[], RegExp][] = [
    ['--method nope', ['--method', 'nope'], /--method.*nope/],
    ['--threads 0', ['--threads', '0'], /--threads.*'0'/],
    ['--output x.bmp', ['--output', 'x.bmp'], /output x\.bmp: unsupported extension '\.bmp'/],
    ['an unknown option', ['--frobnicate'], /--frobnicate/],
    [
      '--align sideways',
      ['--align', 'sideways'],
      /--align: expected one of auto, none, translation, similarity, got 'sideways'/,
    ],
    [
      '--reference 15 of 14 frames',
      ['--reference', '15'],
      /--reference: frame 15 does not exist \(the stack has 14\)/,
    ],
  ];
  for (const [name, flags, message] of cases) {
    it(name, async () => {
      // -o first, so --output x.bmp (later) wins; a bad flag that slipped through still writes into dir.
      const run = await cli('stack', folder, '-o', join(dir, 'out.jpg'), ...flags);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe('');
    });
  }

  it('no inputs', async () => {
    const run = await cli('stack', '-o', join(dir, 'out.jpg'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no input/);
  });
});

describe('stackscope stack: bad input exits 2 naming the file', () => {
  it('a missing input file', async () => {
    const missing = join(dir, 'missing_frame.png');
    const run = await cli('stack', fixture(1), missing, '-o', join(dir, 'out.jpg'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(missing);
  });

  it('a truncated frame among good ones', async () => {
    const frames = join(dir, 'frames');
    await mkdir(frames);
    await copyFile(fixture(1), join(frames, 'f_1.png'));
    const bytes = await readFile(fixture(2));
    await writeFile(join(frames, 'f_2.png'), bytes.subarray(0, bytes.length >> 1));
    await copyFile(fixture(3), join(frames, 'f_3.png'));
    const run = await cli('stack', frames, '-o', join(dir, 'out.jpg'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(join(frames, 'f_2.png'));
    expect(run.stderr).not.toContain('f_1.png:');
  });

  it('frames of different sizes', async () => {
    const small = join(dir, 'small.png');
    await sharp(fixture(2)).resize(200, 150).png().toFile(small);
    const run = await cli('stack', fixture(1), small, '-o', join(dir, 'out.jpg'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(small);
    expect(run.stderr).toContain('200×150');
    expect(run.stderr).toContain('384×288');
  });
});

describe('stackscope: commands and help', () => {
  it('stack --help lists the options', async () => {
    const run = await cli('stack', '--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--method');
  });

  it('no command prints usage and exits 0', async () => {
    const run = await cli();
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: stackscope/);
  });

  it('an unknown command exits 2', async () => {
    const run = await cli('frobnicate');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown command 'frobnicate'");
  });
});

describe('stackscope stack: 16-bit inputs', () => {
  it('writes a 16-bit TIFF from 16-bit PNG frames', async () => {
    const random = seeded(7);
    const sharpest = makeFrame(96, 64, 3, () => 6_000 + random() * 50_000, 16);
    const raw = { raw: { width: 96, height: 64, channels: 3 as const } };
    const files: string[] = [];
    for (const [i, sigma] of [2, 0, 1.5].entries()) {
      const image = sharp(sharpest.data, raw);
      const file = join(dir, `f16_${i + 1}.png`);
      await (sigma > 0 ? image.blur(sigma) : image).toColourspace('rgb16').png().toFile(file);
      expect((await sharp(file).metadata()).depth).toBe('ushort');
      files.push(file);
    }
    const output = join(dir, 'out.tif');
    const run = await cli('stack', ...files, '-o', output, '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ bitDepth: 16, width: 96, height: 64 });
    expect(await sharp(output).metadata()).toMatchObject({ format: 'tiff', depth: 'ushort', channels: 3 });
  });
});
