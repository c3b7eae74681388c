// The shapes of job requests, as zod schemas shared by the API (validation, OpenAPI) and the job
// manager (types): a capture-and-stack, a restack of kept frames, and the stack settings they share.
import { z } from 'zod';
import { ALIGN_MODES } from '../stack/align/aligner.js';
import { MEASURES, METHODS } from '../stack/types.js';

const finite = z.number().refine(Number.isFinite, 'expected a finite number');

export const stackSettingsSchema = z
  .object({
    method: z.enum(METHODS).optional(),
    measure: z.enum(MEASURES).optional(),
    align: z.enum(ALIGN_MODES).optional(),
  })
  .strict();

export const cameraOverridesSchema = z
  .object({
    encoding: z.enum(['jpg', 'png']).optional(),
    quality: z.number().int().min(1).max(100).optional(),
    shutterUs: z.number().int().positive().optional(),
    analogueGain: z.number().min(1).max(64).optional(),
    awbGains: z.tuple([z.number().positive(), z.number().positive()]).optional(),
    lensPosition: z.number().min(0).max(32).optional(),
  })
  .strict();

const common = {
  settleMs: z
    .number()
    .int()
    .min(0)
    .max(10_000)
    .optional()
    .describe('Pause after each move; default rig.stage.settleMs'),
  camera: cameraOverridesSchema.optional(),
  stack: stackSettingsSchema.optional(),
  keepFrames: z.boolean().optional(),
  returnToStart: z.boolean().optional(),
  label: z.string().max(200).optional(),
};

export const captureRequestSchema = z.union([
  z
    .object({
      start: finite.describe('µm'),
      end: finite.describe('µm'),
      step: z.number().positive().describe('µm'),
      ...common,
    })
    .strict(),
  z
    .object({
      frames: z.number().int().min(2).max(255).describe('planes centred on the current position'),
      step: z.number().positive().describe('µm'),
      ...common,
    })
    .strict(),
]);

export const restackRequestSchema = z
  .object({ stack: stackSettingsSchema.optional(), label: z.string().max(200).optional() })
  .strict();

export type StackSettings = z.infer<typeof stackSettingsSchema>;
export type CaptureRequest = z.infer<typeof captureRequestSchema>;
export type RestackRequest = z.infer<typeof restackRequestSchema>;
