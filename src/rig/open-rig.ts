// Picks and opens the rig the configuration asks for: the Raspberry Pi hardware, or the simulated
// microscope (rig.type auto: the Pi when this is one, else the simulation — so `npm start` runs anywhere).
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RigConfig } from '../config/schema.js';
import { StackscopeError } from '../errors.js';
import { StepperStage } from './stage/stepper-stage.js';
import type { Button, Indicator, Rig } from './types.js';
import { VirtualButton, VirtualIndicator } from './simulated/button.js';

export interface OpenRigOptions {
  /** Where the stage keeps its position and the camera its scratch files. */
  stateDir: string;
  logger?: Logger;
  /** Where the device tree model is read from (tests). */
  modelPath?: string;
}

/** The board's model string ("Raspberry Pi 5 Model B Rev 1.0"), or null off a Pi. */
export async function raspberryPiModel(modelPath = '/proc/device-tree/model'): Promise<string | null> {
  try {
    const model = (await readFile(modelPath, 'utf8')).replace(/\0/g, '').trim();
    return model.startsWith('Raspberry Pi') ? model : null;
  } catch {
    return null;
  }
}

export async function openRig(config: RigConfig, options: OpenRigOptions): Promise<Rig> {
  await mkdir(options.stateDir, { recursive: true });
  let kind = config.type;
  if (kind === 'auto') {
    const model = await raspberryPiModel(options.modelPath);
    kind = model ? 'pi' : 'simulated';
    options.logger?.info(
      { model, rig: kind },
      model ? `running on ${model}` : 'no Raspberry Pi found: simulated microscope',
    );
  }
  if (kind === 'simulated') {
    const { openSimulatedRig } = await import('./simulated/rig.js');
    return openSimulatedRig(config, options);
  }
  return openPiRig(config, options);
}

async function openPiRig(config: RigConfig, { stateDir, logger }: OpenRigOptions): Promise<Rig> {
  // Imported here so a simulated rig never loads the GPIO layer (nor, through it, onoff or pigpio).
  const { openPiHardware } = await import('./gpio/pi-rig.js');
  const { RpicamCamera } = await import('./camera/rpicam-camera.js');
  const hardware = await openPiHardware(config, { logger });
  try {
    const stage = await StepperStage.open({
      backend: hardware.stepper,
      config: config.stage,
      statePath: join(stateDir, 'stage-position.json'),
      logger,
    });
    const workDir = join(stateDir, 'camera');
    await mkdir(workDir, { recursive: true });
    const camera = new RpicamCamera({ config: config.camera, workDir, logger });
    // No button or LED wired: stand-ins keep the rest of the daemon free of "if wired" branches.
    const button: Button = hardware.button ?? new VirtualButton();
    const indicator: Indicator = hardware.indicator ?? new VirtualIndicator();
    return {
      kind: 'pi',
      stage,
      camera,
      button,
      indicator,
      async close() {
        await stage.close().catch(() => {});
        await camera.close().catch(() => {});
        await hardware.close();
      },
    };
  } catch (error) {
    await hardware.close().catch(() => {});
    if (error instanceof StackscopeError) throw error;
    throw new StackscopeError('GPIO_UNAVAILABLE', `opening the Pi rig failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
