// Checks the header-chip lookup on fake sysfs trees: the base offset on a Pi 4 and a Pi 5 with 6.6
// kernels, and clear GPIO_UNAVAILABLE errors for a missing tree, unknown chips and EACCES.

import * as nodeFs from 'node:fs/promises';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findHeaderChip, sysfsGpioNumber, type SysfsFs } from '../../../src/rig/gpio/chip.js';
import { StackscopeError } from '../../../src/errors.js';
import { makeSysfsTree, PI4_KERNEL_6_6, PI5_KERNEL_6_6 } from '../../fakes/fake-onoff.js';

const roots: string[] = [];
async function tree(...args: Parameters<typeof makeSysfsTree>) {
  const root = await makeSysfsTree(...args);
  roots.push(root);
  return root;
}
afterEach(async () => {
  await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
});

const eacces = (path: string) =>
  Object.assign(new Error(`EACCES: permission denied, ${path}`), { code: 'EACCES' });

async function failure(promise: Promise<unknown>): Promise<StackscopeError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StackscopeError);
  expect((err as StackscopeError).code).toBe('GPIO_UNAVAILABLE');
  return err as StackscopeError;
}

describe('findHeaderChip', () => {
  it('finds the Pi 4 header chip at base 512 on a 6.6 kernel and maps BCM N to 512 + N', async () => {
    const root = await tree(PI4_KERNEL_6_6);
    const chip = await findHeaderChip(root);
    expect(chip).toMatchObject({ label: 'pinctrl-bcm2711', base: 512, ngpio: 58, isPi5: false });
    expect(chip.path).toBe(join(root, 'class', 'gpio', 'gpiochip512'));
    expect(sysfsGpioNumber(chip, 20)).toBe(532);
    expect(sysfsGpioNumber(chip, 26)).toBe(538);
  });

  it('finds the Pi 5 RP1 among the brcmstb chips at base 571', async () => {
    const chip = await findHeaderChip(await tree(PI5_KERNEL_6_6));
    expect(chip).toMatchObject({ label: 'pinctrl-rp1', base: 571, ngpio: 54, isPi5: true });
    expect(sysfsGpioNumber(chip, 17)).toBe(588);
  });

  it('reads the base it finds, including 0 on an older Pi 3 kernel', async () => {
    const chip = await findHeaderChip(await tree([{ label: 'pinctrl-bcm2835', base: 0, ngpio: 54 }]));
    expect(chip.label).toBe('pinctrl-bcm2835');
    expect(sysfsGpioNumber(chip, 4)).toBe(4);
  });

  it('refuses BCM numbers the chip does not have', async () => {
    const chip = await findHeaderChip(await tree([{ label: 'pinctrl-rp1', base: 399, ngpio: 54 }]));
    expect(() => sysfsGpioNumber(chip, 54)).toThrow(/BCM pin 54 is not on pinctrl-rp1.*0–53/);
    expect(() => sysfsGpioNumber(chip, 2.5)).toThrow(StackscopeError);
  });

  it('says what to do when /sys/class/gpio is missing', async () => {
    const root = await tree([]);
    await rm(join(root, 'class'), { recursive: true });
    const err = await failure(findHeaderChip(root));
    expect(err.message).toContain(join(root, 'class', 'gpio'));
    expect(err.message).toMatch(/not a Raspberry Pi/);
    expect(err.message).toMatch(/CONFIG_GPIO_SYSFS/);
    expect(err.message).toMatch(/simulated/);
  });

  it('lists the labels it saw when none is a Pi header chip', async () => {
    const root = await tree([
      { label: 'gpio-mockup-A', base: 512, ngpio: 8 },
      { label: 'sunxi-pinctrl', base: 600, ngpio: 32 },
    ]);
    const err = await failure(findHeaderChip(root));
    expect(err.message).toContain('gpiochip512: gpio-mockup-A');
    expect(err.message).toContain('gpiochip600: sunxi-pinctrl');
    expect(err.message).toContain('pinctrl-bcm2711');
  });

  it('says so when sysfs has no chips at all', async () => {
    const err = await failure(findHeaderChip(await tree([])));
    expect(err.message).toMatch(/found no gpiochip entries/);
  });

  it('turns EACCES on the chip files into the gpio-group hint', async () => {
    const root = await tree(PI4_KERNEL_6_6);
    const fs: SysfsFs = {
      readdir: (p) => nodeFs.readdir(p),
      readFile: (p, enc) => (p.endsWith('label') ? Promise.reject(eacces(p)) : nodeFs.readFile(p, enc)),
      access: (p, mode) => nodeFs.access(p, mode),
    };
    const err = await failure(findHeaderChip(root, { fs }));
    expect(err.message).toMatch(/Permission denied on .*gpiochip512\/label/);
    expect(err.message).toMatch(/group gpio/);
    expect(err.message).toMatch(/root/);
  });

  it('checks export is writable only when asked, with the same hint on EACCES', async () => {
    const root = await tree(PI4_KERNEL_6_6);
    const fs: SysfsFs = {
      readdir: (p) => nodeFs.readdir(p),
      readFile: (p, enc) => nodeFs.readFile(p, enc),
      access: (p) => Promise.reject(eacces(p)),
    };
    await expect(findHeaderChip(root, { fs })).resolves.toMatchObject({ base: 512 });
    const err = await failure(findHeaderChip(root, { fs, requireExport: true }));
    expect(err.message).toContain(join(root, 'class', 'gpio', 'export'));
    expect(err.message).toMatch(/usermod -aG gpio/);
  });

  it('turns EACCES on the directory into the same hint', async () => {
    const fs: SysfsFs = {
      readdir: (p) => Promise.reject(eacces(p)),
      readFile: (p, enc) => nodeFs.readFile(p, enc),
      access: (p, mode) => nodeFs.access(p, mode),
    };
    const err = await failure(findHeaderChip('/nowhere', { fs }));
    expect(err.message).toMatch(/Permission denied on \/nowhere\/class\/gpio: add the user to group gpio/);
  });

  it('rejects a base that is not a number', async () => {
    const root = await tree(PI4_KERNEL_6_6);
    await nodeFs.writeFile(join(root, 'class', 'gpio', 'gpiochip512', 'base'), 'banana\n');
    const err = await failure(findHeaderChip(root));
    expect(err.message).toMatch(/base should hold a whole number ≥ 0, but holds "banana"/);
  });
});
