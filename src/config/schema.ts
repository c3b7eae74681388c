// The whole configuration as one zod schema: every value has a default, a unit in its name and a
// description. Loading (file, environment, flags) is config/load.ts; consumers get a frozen object.
import { z } from 'zod';

/** BCM GPIO number of a header pin (0–27); GPIO0/1 are the HAT EEPROM's and pigpio cannot use 0. */
const bcmPin = z.number().int().min(2).max(27);

const stepDirDriver = z
  .object({
    type: z.enum(['a4988', 'drv8825', 'tmc2209']).describe('STEP/DIR driver chip'),
    stepPin: bcmPin.describe('BCM pin wired to STEP'),
    dirPin: bcmPin.describe('BCM pin wired to DIR'),
    enablePin: bcmPin.optional().describe('BCM pin wired to EN (active low); absent: always enabled'),
    microsteps: z
      .union([
        z.literal(1),
        z.literal(2),
        z.literal(4),
        z.literal(8),
        z.literal(16),
        z.literal(32),
        z.literal(64),
      ])
      .default(16)
      .describe('Microstepping set on the driver (MS pins or TMC2209 default)'),
    invertDirection: z.boolean().default(false).describe('Flip DIR so positive µm moves the focus up'),
  })
  .strict();

const uln2003Driver = z
  .object({
    type: z.literal('uln2003').describe('ULN2003 board with a 28BYJ-48: 4-phase half-step sequence'),
    pins: z.tuple([bcmPin, bcmPin, bcmPin, bcmPin]).describe('BCM pins wired to IN1–IN4'),
    invertDirection: z
      .boolean()
      .default(false)
      .describe('Flip the coil order so positive µm moves the focus up'),
  })
  .strict();

export const stageSchema = z
  .object({
    driver: z.discriminatedUnion('type', [stepDirDriver, uln2003Driver]).default({
      type: 'a4988',
      stepPin: 20,
      dirPin: 21,
      enablePin: 16,
      microsteps: 16,
      invertDirection: false,
    }),
    gpio: z
      .enum(['auto', 'pigpio', 'onoff'])
      .default('auto')
      .describe(
        'Pulse backend: pigpio (DMA-timed, Pi 1–4, root) or onoff (software-timed, any Pi); auto picks pigpio when it loads',
      ),
    stepsPerMm: z
      .number()
      .positive()
      .default(16000)
      .describe(
        '(Micro)steps per mm of focus travel: 200 full steps × 16 microsteps per 200 µm knob turn = 16 000',
      ),
    minUm: z.number().default(0).describe('Soft limit: lowest position, µm'),
    maxUm: z.number().default(2000).describe('Soft limit: highest position, µm'),
    maxSpeedUmPerS: z.number().positive().default(200).describe('Top speed of a move, µm/s'),
    accelUmPerS2: z
      .number()
      .positive()
      .default(1000)
      .describe('Acceleration and deceleration of the trapezoidal ramp, µm/s²'),
    backlashUm: z.number().min(0).default(10).describe('Overshoot below a target, then approach it upwards'),
    settleMs: z.number().int().min(0).max(10000).default(300).describe('Pause after a move before a capture'),
    disableWhenIdle: z
      .boolean()
      .default(true)
      .describe('Cut motor current between moves (cooler; holding torque lost)'),
    limitSwitch: z
      .object({
        pin: bcmPin,
        activeLow: z
          .boolean()
          .default(true)
          .describe('The switch pulls the pin to ground when hit (needs a pull-up)'),
        /** Where the switch sits: homing drives towards it and sets the position to this value. */
        atUm: z.number().default(0).describe('Position of the switch, µm: homing sets the stage to this'),
        side: z.enum(['min', 'max']).default('min').describe('Which end of the travel the switch sits at'),
      })
      .strict()
      .optional(),
    homingSpeedUmPerS: z
      .number()
      .positive()
      .default(100)
      .describe('Speed towards the switch while homing, µm/s (the final approach is slower)'),
  })
  .strict()
  .refine((s) => s.maxUm > s.minUm, { message: 'maxUm must be greater than minUm', path: ['maxUm'] });

export const cameraSchema = z
  .object({
    command: z.string().optional().describe('Camera program; absent: rpicam-still, then libcamera-still'),
    mode: z.enum(['signal', 'keypress', 'per-frame']).default('signal').describe('How frames are triggered'),
    width: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Frame width in pixels; absent: the sensor's full width"),
    height: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Frame height in pixels; absent: the sensor's full height"),
    encoding: z.enum(['jpg', 'png']).default('jpg').describe('Frame file format written by the camera'),
    quality: z.number().int().min(1).max(100).default(93).describe('JPEG quality of the frames'),
    shutterUs: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Fixed exposure; absent: metered, then locked'),
    analogueGain: z
      .number()
      .min(1)
      .max(64)
      .optional()
      .describe('Fixed analogue gain; absent: metered, then locked'),
    awbGains: z
      .tuple([z.number().positive(), z.number().positive()])
      .optional()
      .describe('Fixed red and blue white-balance gains; absent: metered, then locked'),
    lensPosition: z.number().min(0).max(32).optional().describe('Camera Module 3 lens, dioptres'),
    denoise: z
      .enum(['auto', 'off', 'cdn_off', 'cdn_fast', 'cdn_hq'])
      .default('cdn_off')
      .describe('Camera denoise mode (cdn_off keeps the fine detail focus measures need)'),
    immediate: z.boolean().default(true).describe('--immediate in per-frame mode'),
    startupTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(15000)
      .describe('How long the camera may take to deliver its first frame'),
    frameTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(10000)
      .describe('How long a frame may take before the camera process is restarted'),
    extraArgs: z
      .array(z.string())
      .default([])
      .describe('More rpicam-still options, appended as given (not ones stackscope sets itself)'),
  })
  .strict();

export const buttonSchema = z
  .object({
    pin: bcmPin.default(26),
    activeLow: z
      .boolean()
      .default(true)
      .describe(
        'Pressed pulls the pin to ground: needs a pull-up (gpio=N=pu in config.txt, or a resistor to 3V3)',
      ),
    debounceMs: z
      .number()
      .int()
      .min(1)
      .max(500)
      .default(30)
      .describe('A level must hold this long to count (contact bounce is shorter)'),
    longPressMs: z
      .number()
      .int()
      .min(200)
      .max(10000)
      .default(1500)
      .describe('Holding this long is a long press (cancel the job, or home when idle)'),
  })
  .strict();

export const indicatorSchema = z
  .object({
    pin: bcmPin.default(19),
    activeLow: z
      .boolean()
      .default(false)
      .describe('The LED is lit by a low level (wired to 3V3 through the resistor)'),
  })
  .strict();

export const simulatedSchema = z
  .object({
    width: z.number().int().min(64).max(4096).default(1024).describe('Simulated frame width, px'),
    height: z.number().int().min(48).max(3072).default(768).describe('Simulated frame height, px'),
    seed: z.number().int().default(1).describe('Seed of the synthetic specimen: same seed, same specimen'),
    /** Where the specimen's lowest point sits on the stage, µm: the virtual motor starts just above it. */
    specimenBaseUm: z.number().default(900).describe("Stage position of the specimen's lowest point, µm"),
    /** Specimen relief: the scene's surface spans this much of Z above specimenBaseUm. */
    depthRangeUm: z.number().positive().default(200).describe("Height of the specimen's relief, µm"),
    /** Blur σ (px) per µm of defocus. */
    blurPxPerUm: z.number().positive().default(0.05).describe('Blur σ (px) per µm of defocus'),
    noise: z.number().min(0).max(0.1).default(0.004).describe('Sensor noise, fraction of full scale'),
    /** Stage wobble per move (px) and focus breathing (scale per µm), as a real rig shows. */
    wobblePx: z
      .number()
      .min(0)
      .default(0)
      .describe('Sideways wobble of the image per stage position, px (σ)'),
    breathingPerUm: z
      .number()
      .min(0)
      .default(0)
      .describe('Focus breathing: magnification change per µm of focus'),
    /** Backlash play between the virtual motor and the focus carriage, µm: the stage must take it up. */
    playUm: z
      .number()
      .min(0)
      .default(5)
      .describe('Backlash play between the virtual motor and the focus, µm'),
    /** Simulated time per frame besides the move: exposure and readout. */
    exposureMs: z
      .number()
      .int()
      .min(0)
      .default(50)
      .describe('Simulated exposure and readout time per frame, ms'),
    /** 1 runs moves at their real duration; larger runs them faster (tests). */
    timeScale: z
      .number()
      .positive()
      .default(1)
      .describe('1: moves and exposures take real time; larger runs them faster'),
    /** Injected camera faults, so soak runs and tests can do the damage a real camera does. */
    faults: z
      .object({
        crashEvery: z
          .number()
          .int()
          .positive()
          .optional()
          .describe('Fault injection: every Nth capture fails as if the camera process crashed'),
        corruptFrameEvery: z
          .number()
          .int()
          .positive()
          .optional()
          .describe('Fault injection: every Nth frame is written cut short (a truncated file)'),
      })
      .strict()
      .default({})
      .describe('Camera faults injected on purpose (soak tests); absent: none'),
  })
  .strict();

export const rigSchema = z
  .object({
    type: z.enum(['auto', 'pi', 'simulated']).default('auto').describe('auto: pi when Pi hardware is found'),
    stage: stageSchema.default(() => stageSchema.parse({})),
    camera: cameraSchema.default(() => cameraSchema.parse({})),
    button: buttonSchema.optional().describe('Absent: no button wired'),
    indicator: indicatorSchema.optional().describe('Absent: no LED wired'),
    simulated: simulatedSchema.default(() => simulatedSchema.parse({})),
  })
  .strict();

export type StageConfig = z.infer<typeof stageSchema>;
export type StepDirDriverConfig = z.infer<typeof stepDirDriver>;
export type Uln2003DriverConfig = z.infer<typeof uln2003Driver>;
export type CameraConfig = z.infer<typeof cameraSchema>;
export type ButtonConfig = z.infer<typeof buttonSchema>;
export type IndicatorConfig = z.infer<typeof indicatorSchema>;
export type SimulatedConfig = z.infer<typeof simulatedSchema>;
export type RigConfig = z.infer<typeof rigSchema>;
