// Shrinks a full-resolution depth map to the working map the mesh is made from: confidence-weighted
// box means of height, a validity mask and the stacked image's luminance (the smoothing's guide).
import { BadArgumentError } from '../errors.js';
import { boxMean } from './guided-filter.js';

/** What a mesh is made from: a stack's depth (frames), confidence (0–255) and stacked image. */
export interface DepthInput {
  width: number;
  height: number;
  /** Per pixel, the fractional index of the frame in focus. */
  depth: Float32Array;
  confidence: Uint8Array;
  /** The stacked image, interleaved; its luminance guides the smoothing and colours the mesh. */
  image: { channels: 1 | 3; data: Uint8Array | Uint16Array };
}

/** The depth map at a working resolution, heights already in µm. */
export interface WorkingMap {
  width: number;
  height: number;
  /** Image pixels per working cell, along each axis. */
  factor: number;
  /** Height of each cell, µm: mean of its pixels weighted by confidence² (the plain mean when all are 0). */
  heightUm: Float32Array;
  /** Per cell, mean confidence / 255: 0 (no depth) … 1. */
  weight: Float32Array;
  /** 1 where the mean confidence around the cell (5×5 cells) reaches the threshold. */
  valid: Uint8Array;
  /** Luminance of the stacked image, 0–1. */
  guide: Float32Array;
}

export interface ReduceOptions {
  /**
   * Cells whose neighbourhood's mean confidence is below this carry no depth. The mean, not single
   * pixels: a textureless patch has a few lucky pixels above any threshold, and they are noise.
   */
  minConfidence: number;
  /** µm per frame of the depth map (signed: heights grow towards the objective). */
  umPerFrame: number;
  /** Longest side of the working map; the image is box-averaged by a whole factor to fit. */
  maxSide: number;
}

export function checkDepthInput(input: DepthInput): void {
  const { width: w, height: h } = input;
  if (!(Number.isInteger(w) && Number.isInteger(h) && w >= 2 && h >= 2))
    throw new BadArgumentError(`a mesh needs a depth map of at least 2×2 pixels, got ${w}×${h}`);
  const n = w * h;
  const sizes: [string, number, number][] = [
    ['depth', input.depth.length, n],
    ['confidence', input.confidence.length, n],
    ['image', input.image.data.length, n * input.image.channels],
  ];
  for (const [name, got, want] of sizes)
    if (got !== want)
      throw new BadArgumentError(`${name} has ${got} samples, expected ${want} for ${w}×${h}`);
}

/** Box-reduces depth, confidence and luminance by the smallest whole factor that fits `maxSide`. */
export function reduceDepth(input: DepthInput, options: ReduceOptions): WorkingMap {
  checkDepthInput(input);
  const { width: W, height: H, depth, confidence } = input;
  const f = Math.max(1, Math.ceil(Math.max(W, H) / options.maxSide));
  const w = Math.ceil(W / f);
  const h = Math.ceil(H / f);
  const n = w * h;
  const sumWD = new Float64Array(n);
  const sumW = new Float64Array(n);
  const sumD = new Float64Array(n);
  const sumC = new Float64Array(n);
  const count = new Uint32Array(n);
  const guide = new Float32Array(n);
  const { channels, data } = input.image;
  const lumaScale = 1 / (data instanceof Uint16Array ? 65535 : 255);
  const columnCell = new Uint32Array(W);
  for (let x = 0; x < W; x++) columnCell[x] = Math.floor(x / f);
  // Walks the image once, row by row, adding each pixel into its cell: no per-cell gather.
  for (let y = 0; y < H; y++) {
    const rowCell = Math.floor(y / f) * w;
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const c = rowCell + columnCell[x];
      const d = depth[p];
      const k = confidence[p];
      // Squared: inside a cell, the decisive pixels outvote the coin tosses.
      sumWD[c] += k * k * d;
      sumW[c] += k * k;
      sumD[c] += d;
      sumC[c] += k;
      count[c]++;
      const o = p * channels;
      guide[c] += channels === 3 ? 0.299 * data[o] + 0.587 * data[o + 1] + 0.114 * data[o + 2] : data[o];
    }
  }
  const heightUm = new Float32Array(n);
  const weight = new Float32Array(n);
  const k = options.umPerFrame;
  for (let c = 0; c < n; c++) {
    const d = sumW[c] > 0 ? sumWD[c] / sumW[c] : sumD[c] / count[c];
    heightUm[c] = d * k;
    weight[c] = sumC[c] / count[c] / 255;
    guide[c] = (guide[c] / count[c]) * lumaScale;
  }
  const around = new Float32Array(n);
  boxMean(weight, w, h, 2, around);
  const valid = new Uint8Array(n);
  const threshold = options.minConfidence / 255;
  for (let c = 0; c < n; c++) valid[c] = around[c] >= threshold && weight[c] > 0 ? 1 : 0;
  return { width: w, height: h, factor: f, heightUm, weight, valid, guide };
}
