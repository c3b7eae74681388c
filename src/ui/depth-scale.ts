// Turns a depth map's frame index into a stage height in µm, from the positions the frames were
// taken at; pure, so the 3D view and the tests share it. Depth PNGs hold index × 256 (DESIGN.md).

export interface DepthScale {
  /** Height for a (fractional) frame index, in µm, or in frames when positions are unknown. */
  toZ(index: number): number;
  unit: 'µm' | 'frames';
}

/**
 * `positions[i]` is where frame i was taken (the frames' stageUm, else the planned planes). Between
 * frames the height is interpolated; indices beyond the frames are held at the ends.
 */
export function depthScale(positions: (number | undefined)[]): DepthScale {
  const known = positions.every((p) => p !== undefined && Number.isFinite(p)) && positions.length >= 2;
  if (!known) return { toZ: (index) => index, unit: 'frames' };
  const z = positions as number[];
  const last = z.length - 1;
  return {
    unit: 'µm',
    toZ(at) {
      // A depth map never points outside its frames.
      const index = Math.min(last, Math.max(0, at));
      const i = Math.min(last - 1, Math.floor(index));
      return z[i] + (index - i) * (z[i + 1] - z[i]);
    },
  };
}

/** A round tick spacing (1, 2 or 5 × 10ⁿ) giving about `ticks` intervals over `range`. */
export function niceStep(range: number, ticks = 5): number {
  if (!(range > 0)) return 1;
  const raw = range / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * power;
}

/**
 * A frame index from an 8-bit sample of the 16-bit depth PNG (index × 256) as a browser decodes it:
 * the high byte (or v / 257, rounded), which is the index give or take 1 %; the fraction is lost.
 */
export function frameIndexOf8bit(sample: number): number {
  return sample;
}
