// The simulated microscope as a complete rig: the real StepperStage over a virtual motor (move
// timing, backlash play, limits), a camera rendering the specimen at the carriage's focus, a button, an LED.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RigConfig } from '../../config/schema.js';
import { PositionStore } from '../stage/position-store.js';
import { StepperStage } from '../stage/stepper-stage.js';
import type { Rig } from '../types.js';
import { VirtualButton, VirtualIndicator } from './button.js';
import { SimulatedCamera } from './camera.js';
import { SimulatedMotor } from './motor.js';

export interface SimulatedRig extends Rig {
  readonly kind: 'simulated';
  readonly motor: SimulatedMotor;
  readonly camera: SimulatedCamera;
  readonly button: VirtualButton;
  readonly indicator: VirtualIndicator;
}

export async function openSimulatedRig(
  config: RigConfig,
  { stateDir, logger }: { stateDir: string; logger?: Logger },
): Promise<SimulatedRig> {
  const sim = config.simulated;
  const statePath = join(stateDir, 'stage-position.json');
  // The virtual carriage is where the saved position says; a fresh rig starts mid-specimen, where a
  // user would have focused by eye.
  const restored = await new PositionStore(statePath).load();
  const specimenMiddleUm = sim.specimenBaseUm + sim.depthRangeUm / 2;
  const startUm = restored.certain ? restored.um : specimenMiddleUm;
  const switchConfig = config.stage.limitSwitch;
  const motor = new SimulatedMotor({
    stepsPerMm: config.stage.stepsPerMm,
    playUm: sim.playUm,
    timeScale: sim.timeScale,
    startUm,
    limitSwitchAtUm: switchConfig && switchConfig.side === 'min' ? switchConfig.atUm : undefined,
  });
  const stage = await StepperStage.open({ backend: motor, config: config.stage, statePath, logger });
  // A simulation knows where its carriage is: unlike a real rig, it never starts uncertain.
  if (!stage.position().certain) await stage.setPosition(startUm);
  const camera = new SimulatedCamera({ config: sim, focusUm: () => motor.carriageUm() });
  const button = new VirtualButton();
  const indicator = new VirtualIndicator();
  indicator.show('idle');
  return {
    kind: 'simulated',
    stage,
    motor,
    camera,
    button,
    indicator,
    async close() {
      await stage.close();
      await camera.close();
      await button.close();
      await indicator.close();
    },
  };
}
