// Finds the Raspberry Pi's header GPIO chip in sysfs and maps BCM pin numbers to sysfs GPIO numbers.
// Since kernel 6.6 the numbers start at a dynamic base (512 + N on Pi 0–4, 571 + N on Pi 5): never assume 0.

import * as nodeFs from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { StackscopeError } from '../../errors.js';

/** Labels of the chip that drives the 40-pin header, by model. */
export const HEADER_CHIP_LABELS = {
  'pinctrl-bcm2835': 'Raspberry Pi 0–3',
  'pinctrl-bcm2711': 'Raspberry Pi 4 / 400 / CM4',
  'pinctrl-rp1': 'Raspberry Pi 5 / CM5',
} as const;

export type HeaderChipLabel = keyof typeof HEADER_CHIP_LABELS;

export interface HeaderChip {
  label: HeaderChipLabel;
  /** The model family the label means, for messages. */
  model: string;
  /** sysfs GPIO number of BCM 0. */
  base: number;
  /** Lines the chip has: BCM numbers at or above are not on it. */
  ngpio: number;
  /** Directory the chip was found in, e.g. /sys/class/gpio/gpiochip512. */
  path: string;
  /** The RP1 (Pi 5): pigpio cannot drive it. */
  isPi5: boolean;
}

/** The few file operations the lookup needs, injectable so tests can simulate EACCES as root. */
export interface SysfsFs {
  readdir(path: string): Promise<string[]>;
  readFile(path: string, encoding: 'utf8'): Promise<string>;
  access(path: string, mode: number): Promise<void>;
}

export interface FindHeaderChipOptions {
  /** Also check that /sys/class/gpio/export is writable (needed by onoff, not by pigpio). Default false. */
  requireExport?: boolean;
  fs?: SysfsFs;
}

export const PERMISSION_HINT =
  'add the user to group gpio (sudo usermod -aG gpio $USER, then log in again) or run stackscope as root';

export const errorCode = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;

function permissionError(path: string, err: unknown): StackscopeError {
  return new StackscopeError('GPIO_UNAVAILABLE', `Permission denied on ${path}: ${PERMISSION_HINT}.`, {
    cause: err,
  });
}

/** Reads an attribute file, turning EACCES into the permission hint. */
async function readAttribute(fs: SysfsFs, path: string): Promise<string> {
  try {
    return (await fs.readFile(path, 'utf8')).trim();
  } catch (err) {
    if (errorCode(err) === 'EACCES') throw permissionError(path, err);
    throw new StackscopeError('GPIO_UNAVAILABLE', `Cannot read ${path}: ${(err as Error).message}.`, {
      cause: err,
    });
  }
}

function parseCount(path: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw new StackscopeError(
      'GPIO_UNAVAILABLE',
      `${path} should hold a whole number ≥ 0, but holds "${text}".`,
    );
  }
  return value;
}

/**
 * The header chip under `<sysfsRoot>/class/gpio`. Throws GPIO_UNAVAILABLE when sysfs GPIO is missing
 * (not a Pi, or a kernel without CONFIG_GPIO_SYSFS), when no chip has a known header label (the
 * message lists the labels seen), or on EACCES.
 */
export async function findHeaderChip(
  sysfsRoot = '/sys',
  options: FindHeaderChipOptions = {},
): Promise<HeaderChip> {
  const fs = options.fs ?? nodeFs;
  const gpioDir = join(sysfsRoot, 'class', 'gpio');
  let entries: string[];
  try {
    entries = await fs.readdir(gpioDir);
  } catch (err) {
    if (errorCode(err) === 'EACCES') throw permissionError(gpioDir, err);
    throw new StackscopeError(
      'GPIO_UNAVAILABLE',
      `${gpioDir} does not exist (${errorCode(err) ?? (err as Error).message}): this is not a Raspberry Pi, or its ` +
        'kernel was built without sysfs GPIO (CONFIG_GPIO_SYSFS). Run with the simulated rig (--rig simulated, ' +
        'rig.type: simulated), or use a Raspberry Pi OS kernel that has /sys/class/gpio.',
      { cause: err },
    );
  }

  const seen: string[] = [];
  const found: HeaderChip[] = [];
  for (const entry of entries.filter((e) => e.startsWith('gpiochip')).sort()) {
    const path = join(gpioDir, entry);
    const label = await readAttribute(fs, join(path, 'label'));
    seen.push(`${entry}: ${label}`);
    if (!(label in HEADER_CHIP_LABELS)) continue;
    const known = label as HeaderChipLabel;
    found.push({
      label: known,
      model: HEADER_CHIP_LABELS[known],
      base: parseCount(join(path, 'base'), await readAttribute(fs, join(path, 'base'))),
      ngpio: parseCount(join(path, 'ngpio'), await readAttribute(fs, join(path, 'ngpio'))),
      path,
      isPi5: known === 'pinctrl-rp1',
    });
  }
  if (found.length === 0) {
    throw new StackscopeError(
      'GPIO_UNAVAILABLE',
      `No Raspberry Pi header GPIO chip in ${gpioDir}: expected a chip labelled ` +
        `${Object.keys(HEADER_CHIP_LABELS).join(', ')}; found ${seen.length ? seen.join('; ') : 'no gpiochip entries'}. ` +
        'On other boards run the simulated rig (rig.type: simulated).',
    );
  }
  // A board has one header chip; should two ever appear, the newest model's label wins (RP1 last above).
  const order = Object.keys(HEADER_CHIP_LABELS);
  found.sort((a, b) => order.indexOf(b.label) - order.indexOf(a.label));
  const chip = found[0];

  if (options.requireExport) {
    const exportPath = join(gpioDir, 'export');
    try {
      await fs.access(exportPath, constants.W_OK);
    } catch (err) {
      if (errorCode(err) === 'EACCES' || errorCode(err) === 'EPERM') throw permissionError(exportPath, err);
      throw new StackscopeError('GPIO_UNAVAILABLE', `Cannot use ${exportPath}: ${(err as Error).message}.`, {
        cause: err,
      });
    }
  }
  return chip;
}

/** The sysfs GPIO number (what onoff takes) of header pin BCM `bcm`. */
export function sysfsGpioNumber(chip: HeaderChip, bcm: number): number {
  if (!Number.isInteger(bcm) || bcm < 0 || bcm >= chip.ngpio) {
    throw new StackscopeError(
      'GPIO_UNAVAILABLE',
      `BCM pin ${bcm} is not on ${chip.label} (${chip.model}), which has lines 0–${chip.ngpio - 1}.`,
    );
  }
  return chip.base + bcm;
}
