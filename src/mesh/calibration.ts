// Scale of a mesh: µm per image pixel (the optics, from the configuration) and µm per frame of the
// depth map (the stage step between planes). The `mesh` configuration section's zod schema is in
// config-schema.ts, so that stacking from the command line does not load zod.
import { BadArgumentError } from '../errors.js';
import { FALLBACK_START } from '../stack/merge/fallback.js';

export interface MeshCalibration {
  /** Width of one image pixel on the specimen, µm (objective, relay lens and sensor pitch). */
  umPerPixel: number;
  /**
   * Focus distance between consecutive frames, µm: the stack's step. Negative when the stack ran
   * downwards (later frames focused lower), so heights still grow towards the objective.
   */
  umPerFrame: number;
  /** Height exaggeration: 1 is true to scale. Default 1. */
  zScale?: number;
}

export const DEFAULT_UM_PER_PIXEL = 1;
/** The step of the default button stack (jobs.buttonStack: 20 frames, 10 µm). */
export const DEFAULT_UM_PER_FRAME = 10;
export const DEFAULT_TARGET_TRIANGLES = 200_000;
/** A 1025² decimation grid has 2.1 M triangles at most; 1 M makes a 50 MB STL, plenty for any printer. */
export const MAX_TARGET_TRIANGLES = 1_000_000;
/**
 * Areas below this confidence (0–255) carry no depth (flat background, defocused interiors): where
 * the stacker itself stops trusting its winner and eases to the mean of the frames.
 */
export const DEFAULT_MIN_CONFIDENCE = FALLBACK_START;
/** Printed base under the relief, mm (in the printed size, after the scale factor). */
export const DEFAULT_BASE_MM = 2;
/** STL print scale: 10 prints a 4 mm specimen 40 mm wide. */
export const DEFAULT_STL_SCALE = 10;

/** Checks a calibration before any work: every value finite, the pixel size positive, the step non-zero. */
export function checkCalibration(c: MeshCalibration): Required<MeshCalibration> {
  const zScale = c.zScale ?? 1;
  if (!(Number.isFinite(c.umPerPixel) && c.umPerPixel > 0))
    throw new BadArgumentError(`umPerPixel must be a positive number of µm, got ${c.umPerPixel}`);
  if (!(Number.isFinite(c.umPerFrame) && c.umPerFrame !== 0))
    throw new BadArgumentError(`umPerFrame must be a non-zero number of µm, got ${c.umPerFrame}`);
  if (!(Number.isFinite(zScale) && zScale > 0))
    throw new BadArgumentError(`zScale must be a positive number, got ${zScale}`);
  return { umPerPixel: c.umPerPixel, umPerFrame: c.umPerFrame, zScale };
}

/**
 * µm per frame from a stack's planes (stage positions in capture order): the mean spacing, signed.
 * Null when there are fewer than two planes or they do not move, so the caller falls back and says so.
 */
export function umPerFrameFromPlanes(planes: unknown): number | null {
  if (!Array.isArray(planes) || planes.length < 2) return null;
  if (!planes.every((p) => typeof p === 'number' && Number.isFinite(p))) return null;
  const spacing = ((planes[planes.length - 1] as number) - (planes[0] as number)) / (planes.length - 1);
  return spacing === 0 ? null : spacing;
}
