// `stackscope jog` and `stackscope capture` on the simulated microscope, as a user runs them in
// bring-up: real CLI process, a temp data dir, the stage position carried from one command to the next.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackscope-jog-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// A small, fast virtual microscope: the commands' behaviour, not the renderer, is under test.
const env = () => ({
  STACKSCOPE__rig__type: 'simulated',
  STACKSCOPE__dataDir: dir,
  STACKSCOPE__rig__simulated__width: '160',
  STACKSCOPE__rig__simulated__height: '120',
  STACKSCOPE__rig__simulated__timeScale: '50',
});

describe('stackscope jog', () => {
  it('moves by and to positions (negative numbers too) and remembers the position between runs', async () => {
    expect((await cli(['jog', '--where'], env())).stdout).toBe('stage at 1000 µm\n');
    expect((await cli(['jog', '--by', '-50.5'], env())).stdout).toBe('stage at 949.5 µm\n');
    expect((await cli(['jog', '--to', '1200'], env())).stdout).toBe('stage at 1200 µm\n');
    expect((await cli(['jog', '--where'], env())).stdout).toBe('stage at 1200 µm\n');
  });

  it('refuses a move beyond the soft limits with exit 2, and the stage stays put', async () => {
    const run = await cli(['jog', '--to', '5000'], env());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('target 5000 µm is outside the soft limits 0–2000 µm');
    expect((await cli(['jog', '--where'], env())).stdout).toBe('stage at 1000 µm\n');
  });

  it('explains bad usage: several actions, a non-number, an unknown rig, a config with a bad key', async () => {
    const both = await cli(['jog', '--by', '1', '--to', '2'], env());
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining('give exactly one of --by, --to')]);
    const word = await cli(['jog', '--by', 'up'], env());
    expect([word.code, word.stderr]).toEqual([
      2,
      expect.stringContaining("--by: expected a number of µm, got 'up'"),
    ]);
    const rig = await cli(['jog', '--where', '--rig', 'lab'], env());
    expect(rig.stderr).toContain("--rig: expected pi or simulated, got 'lab'");
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ rig: { stage: { backlashUm: -3 } } }));
    const bad = await cli(['jog', '--where', '--config', config], env());
    expect([bad.code, bad.stderr]).toEqual([
      2,
      expect.stringMatching(/rig\.stage\.backlashUm: .* \(got -3\)/),
    ]);
  });

  it('declares a position with --set, and homing needs a limit switch', async () => {
    expect((await cli(['jog', '--set', '500'], env())).stdout).toBe('stage at 500 µm\n');
    const home = await cli(['jog', '--home'], env());
    expect([home.code, home.stderr]).toEqual([
      2,
      expect.stringContaining('homing needs a limit switch, but stage.limitSwitch is not configured'),
    ]);
  });
});

describe('stackscope capture', () => {
  it('writes one real frame of the configured size where the stage is', async () => {
    const file = join(dir, 'test.jpg');
    const run = await cli(['capture', '-o', file], env());
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^captured .*test\.jpg in \d+ ms \(stage at 1000 µm/);
    const meta = await sharp(file).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 160, 120]);
  });

  it('needs an output file with an image extension', async () => {
    expect((await cli(['capture'], env())).stderr).toContain('-o/--output FILE is required');
    expect((await cli(['capture', '-o', join(dir, 'x.gif')], env())).stderr).toContain(
      'must end in .jpg, .jpeg or .png',
    );
  });
});
