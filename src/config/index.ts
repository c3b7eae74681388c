// The whole configuration: the rig (hardware or simulated microscope), the server and the data
// directory. config/load.ts reads it from a file, the environment and flags, validates it, freezes it.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { meshConfigSchema } from '../mesh/config-schema.js';
import { schedulesConfigSchema } from '../schedule/schema.js';
import { rigSchema } from './schema.js';

export const serverSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(8080).describe('0: any free port (tests)'),
    host: z.string().default('0.0.0.0').describe('0.0.0.0: the laptop on the LAN can reach it'),
    token: z
      .string()
      .min(16)
      .optional()
      .describe('Bearer token required on mutating routes when listening beyond loopback'),
    protectReads: z
      .boolean()
      .default(false)
      .describe('With a token beyond loopback: reads of /api/ need it too (the event stream takes ?token=)'),
  })
  .strict();

const zRequest = z.union([
  z.object({ start: z.number(), end: z.number(), step: z.number().positive() }).strict(),
  z.object({ frames: z.number().int().min(2).max(255), step: z.number().positive() }).strict(),
]);

export const jobsSchema = z
  .object({
    queue: z
      .boolean()
      .default(true)
      .describe('Queue a stack asked for while the rig is busy; false: refuse with 409'),
    maxQueued: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(10)
      .describe('Most jobs waiting behind the running one'),
    returnToStart: z
      .boolean()
      .default(true)
      .describe('After a stack (or a cancel), move back to where it started'),
    keepFrames: z
      .boolean()
      .default(true)
      .describe('Keep captured frames (for restacks) unless a request says otherwise'),
    method: z.enum(['depthmap', 'pyramid']).default('depthmap').describe('Default merge method of a stack'),
    measure: z.enum(['laplacian', 'tenengrad', 'fft']).default('laplacian').describe('Default focus measure'),
    align: z
      .enum(['auto', 'none', 'translation', 'similarity'])
      .default('auto')
      .describe(
        'Default frame alignment. auto: estimate every frame, resample only those that move (docs/alignment.md)',
      ),
    /** What a short press of the capture button runs. */
    buttonStack: zRequest.default({ frames: 20, step: 10 }),
    /** Keep this much disk free: a job that would eat into it is refused, a running one stopped. */
    reserveMb: z
      .number()
      .int()
      .min(0)
      .default(500)
      .describe('Disk space always left free, MB: a job that would eat into it is refused or stopped'),
    /** Retention of captured frames (results are always kept): days, then a size budget. */
    keepFramesDays: z
      .number()
      .positive()
      .optional()
      .describe('Delete captured frames of finished jobs after this many days (results stay)'),
    keepFramesGb: z
      .number()
      .positive()
      .optional()
      .describe("Then delete the oldest jobs' frames until all frames fit in this many GB"),
  })
  .strict();

export const configSchema = z
  .object({
    dataDir: z
      .string()
      .default(join(homedir(), '.local', 'share', 'stackscope'))
      .describe('Jobs, frames, results and the stage position live here'),
    rig: rigSchema.default(() => rigSchema.parse({})),
    server: serverSchema.default(() => serverSchema.parse({})),
    jobs: jobsSchema.default(() => jobsSchema.parse({})),
    mesh: meshConfigSchema.default(() => meshConfigSchema.parse({})),
    schedules: schedulesConfigSchema
      .default([])
      .describe('Timelapse schedules declared in the file (docs/timelapse.md)'),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type JobsConfig = z.infer<typeof jobsSchema>;
export * from './schema.js';
