// A colourised depth map for people: near frames blue-violet, far frames yellow (viridis), dimmed
// where the confidence is low so flat background does not pretend to have a depth.
import { inSlices } from './slices.js';
import type { Frame } from './types.js';

// Viridis at nine stops (matplotlib's, public domain), interpolated linearly.
const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

function viridis(t: number, out: number[]): void {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  for (let c = 0; c < 3; c++) out[c] = VIRIDIS[i][c] + (VIRIDIS[i + 1][c] - VIRIDIS[i][c]) * f;
}

let viridisLut: Uint8Array | null = null;

function lut(): Uint8Array {
  if (viridisLut) return viridisLut;
  viridisLut = new Uint8Array(256 * 3);
  const rgb = [0, 0, 0];
  for (let i = 0; i < 256; i++) {
    viridis(i / 255, rgb);
    viridisLut.set([Math.round(rgb[0]), Math.round(rgb[1]), Math.round(rgb[2])], i * 3);
  }
  return viridisLut;
}

/**
 * Depth (fractional frame index) and confidence (0–255) into an 8-bit RGB preview, in slices between
 * which the event loop runs (on the daemon's main thread a request must not wait behind a whole map).
 */
export async function depthPreview(
  depth: Float32Array,
  confidence: Uint8Array,
  width: number,
  height: number,
  frames: number,
): Promise<Frame> {
  const data = new Uint8Array(width * height * 3);
  await inSlices(depth.length, (start, end) => colourPixels(depth, confidence, frames, data, start, end));
  return { width, height, channels: 3, bitDepth: 8, data };
}

function colourPixels(
  depth: Float32Array,
  confidence: Uint8Array,
  frames: number,
  data: Uint8Array,
  start: number,
  end: number,
): void {
  const span = Math.max(1, frames - 1);
  const colours = lut();
  for (let p = start, o = 3 * start; p < end; p++, o += 3) {
    const level = Math.round((depth[p] / span) * 255);
    const l = (level < 0 ? 0 : level > 255 ? 255 : level) * 3;
    // Keep at least a third of the brightness so the shape stays readable where confidence is low.
    const shade = 0.35 + 0.65 * Math.min(1, confidence[p] / 128);
    data[o] = colours[l] * shade;
    data[o + 1] = colours[l + 1] * shade;
    data[o + 2] = colours[l + 2] * shade;
  }
}
