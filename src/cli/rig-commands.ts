// `stackscope jog` and `stackscope capture`: bring-up commands that open the configured rig, do one
// thing (move, home, set the position, take a frame), print where the stage is, and release the rig.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/index.js';
import { BadArgumentError } from '../errors.js';
import { captureSettingsOf } from '../rig/capture-settings.js';
import { openRig } from '../rig/open-rig.js';
import { lockRig } from '../rig/rig-lock.js';
import type { Rig, StagePosition } from '../rig/types.js';

export const JOG_USAGE = `Usage: stackscope jog (--by <µm> | --to <µm> | --home | --set <µm> | --where) [options]

Moves the focus stage once and prints its position. Soft limits apply: a move beyond them is refused.
  --by µm          move by this distance (negative: down)
  --to µm          move to this position
  --home           drive to the limit switch and set the position there
  --set µm         declare the current position (no movement), e.g. after focusing by eye
  --where          only print the position
Common options:
  --config FILE    configuration file (default: $STACKSCOPE_CONFIG, else built-in defaults)
  --rig pi|simulated
  --data-dir DIR   where the stage position is kept
`;

export const CAPTURE_USAGE = `Usage: stackscope capture -o <file.jpg|file.png> [options]

Takes one frame with the configured camera, where the stage is now.
  -o, --output FILE
  --config FILE, --rig pi|simulated, --data-dir DIR   as for jog
`;

const COMMON = {
  config: { type: 'string' },
  rig: { type: 'string' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `--by -50` is a move down, not an unknown flag -5 -0: glue negative numbers to their option. */
function glueNegativeNumbers(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (/^--[a-z-]+$/.test(argv[i]) && /^-\d*\.?\d+(e[-+]?\d+)?$/i.test(argv[i + 1] ?? '')) {
      out.push(`${argv[i]}=${argv[i + 1]}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

function parse<T extends Record<string, { type: 'string' | 'boolean'; short?: string }>>(
  argv: string[],
  options: T,
) {
  try {
    return parseArgs({
      args: glueNegativeNumbers(argv),
      options: { ...COMMON, ...options },
      allowPositionals: false,
      strict: true,
    });
  } catch (error) {
    throw new BadArgumentError((error as Error).message);
  }
}

async function configFrom(values: { config?: string; rig?: string; 'data-dir'?: string }): Promise<Config> {
  if (values.rig !== undefined && values.rig !== 'pi' && values.rig !== 'simulated')
    throw new BadArgumentError(`--rig: expected pi or simulated, got '${values.rig}'`);
  return loadConfig({
    file: values.config,
    overrides: { dataDir: values['data-dir'], rig: values.rig ? { type: values.rig } : undefined },
  });
}

async function withRig<T>(config: Config, owner: string, action: (rig: Rig) => Promise<T>): Promise<T> {
  const stateDir = join(config.dataDir, 'state');
  await mkdir(stateDir, { recursive: true });
  const lock = await lockRig(stateDir, owner);
  try {
    const rig = await openRig(config.rig, { stateDir });
    try {
      return await action(rig);
    } finally {
      await rig.close();
    }
  } finally {
    await lock.release();
  }
}

function number(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new BadArgumentError(`--${flag}: expected a number of µm, got '${value}'`);
  return n;
}

export function describePosition(p: StagePosition): string {
  return p.certain ? `stage at ${p.um} µm` : `stage at ${p.um} µm (uncertain: ${p.uncertainReason})`;
}

export async function runJogCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values } = parse(argv, {
    by: { type: 'string' },
    to: { type: 'string' },
    home: { type: 'boolean' },
    set: { type: 'string' },
    where: { type: 'boolean' },
  });
  if (values.help) {
    out.write(JOG_USAGE);
    return 0;
  }
  const actions = (['by', 'to', 'home', 'set', 'where'] as const).filter((k) => values[k] !== undefined);
  if (actions.length !== 1)
    throw new BadArgumentError(
      `jog: give exactly one of --by, --to, --home, --set, --where (got ${actions.length ? actions.map((a) => `--${a}`).join(', ') : 'none'})`,
    );
  const config = await configFrom(values);
  const position = await withRig(config, 'stackscope jog', async (rig) => {
    if (values.by !== undefined) return rig.stage.moveBy(number('by', values.by));
    if (values.to !== undefined) return rig.stage.moveTo(number('to', values.to));
    if (values.set !== undefined) return rig.stage.setPosition(number('set', values.set));
    if (values.home) return rig.stage.home();
    return rig.stage.position();
  });
  out.write(`${describePosition(position)}\n`);
  return 0;
}

export async function runCaptureCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values } = parse(argv, { output: { type: 'string', short: 'o' } });
  if (values.help) {
    out.write(CAPTURE_USAGE);
    return 0;
  }
  if (!values.output) throw new BadArgumentError('capture: -o/--output FILE is required');
  const file = resolve(values.output);
  const encoding = /\.png$/i.test(file) ? 'png' : /\.jpe?g$/i.test(file) ? 'jpg' : null;
  if (!encoding) throw new BadArgumentError(`--output ${values.output}: must end in .jpg, .jpeg or .png`);
  const config = await configFrom(values);
  const shot = await withRig(config, 'stackscope capture', async (rig) => {
    await rig.camera.open(captureSettingsOf(config.rig.camera, { encoding }));
    try {
      const frame = await rig.camera.capture(file);
      return { frame, position: rig.stage.position() };
    } finally {
      await rig.camera.close();
    }
  });
  const exposure = shot.frame.exposure
    ? `, exposure ${shot.frame.exposure.shutterUs} µs, gain ${shot.frame.exposure.analogueGain}`
    : '';
  out.write(
    `captured ${file} in ${Math.round(shot.frame.durationMs)} ms (${describePosition(shot.position)}${exposure})\n`,
  );
  return 0;
}
