// The zod schema of the `mesh` configuration section, with its defaults (calibration.ts).
import { z } from 'zod';
import {
  DEFAULT_BASE_MM,
  DEFAULT_MIN_CONFIDENCE,
  DEFAULT_STL_SCALE,
  DEFAULT_TARGET_TRIANGLES,
  DEFAULT_UM_PER_FRAME,
  DEFAULT_UM_PER_PIXEL,
  MAX_TARGET_TRIANGLES,
} from './calibration.js';

export const meshConfigSchema = z
  .object({
    umPerPixel: z
      .number()
      .positive()
      .default(DEFAULT_UM_PER_PIXEL)
      .describe(
        'µm of specimen per image pixel. Measure it once per objective: photograph a stage micrometer ' +
          '(a slide ruled in 10 µm divisions), count the pixels between two rulings far apart, and ' +
          'divide their distance in µm by that pixel count (docs/mesh.md)',
      ),
    umPerFrame: z
      .number()
      .positive()
      .default(DEFAULT_UM_PER_FRAME)
      .describe(
        'µm between frames when a stack does not record its planes (uploads, CLI stacks of files): ' +
          'the focus step the frames were taken at',
      ),
    zScale: z.number().positive().max(1000).default(1).describe('Height exaggeration; 1 = true to scale'),
    targetTriangles: z
      .number()
      .int()
      .min(2)
      .max(MAX_TARGET_TRIANGLES)
      .default(DEFAULT_TARGET_TRIANGLES)
      .describe('Most triangles of the relief surface (a printable solid adds its walls and base)'),
    minConfidence: z
      .number()
      .int()
      .min(0)
      .max(255)
      .default(DEFAULT_MIN_CONFIDENCE)
      .describe('Depth of pixels below this focus confidence (0–255) is filled from confident neighbours'),
    removeBackground: z
      .boolean()
      .default(false)
      .describe('Flatten the unconfident area touching the image border (the slide) to the lowest level'),
    stlScale: z
      .number()
      .positive()
      .max(100_000)
      .default(DEFAULT_STL_SCALE)
      .describe('STL print scale: 10 prints a 4 mm specimen 40 mm wide'),
    baseMm: z
      .number()
      .min(0.2)
      .max(100)
      .default(DEFAULT_BASE_MM)
      .describe('Thickness of the printed base below the lowest point, mm (printed size)'),
  })
  .strict();

export type MeshConfig = z.infer<typeof meshConfigSchema>;

export const DEFAULT_MESH_CONFIG: MeshConfig = meshConfigSchema.parse({});
