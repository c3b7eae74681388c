// The whole configuration: the rig (hardware or simulated microscope), the server and the data
// directory. config/load.ts reads it from a file, the environment and flags, validates it, freezes it.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { rigSchema } from './schema.js';

export const serverSchema = z
  .object({
    port: z.number().int().min(1).max(65535).default(8080),
    host: z.string().default('0.0.0.0').describe('0.0.0.0: the laptop on the LAN can reach it'),
    token: z
      .string()
      .min(16)
      .optional()
      .describe('Bearer token required on mutating routes when listening beyond loopback'),
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
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export * from './schema.js';
