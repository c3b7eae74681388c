// The shared-memory layout of one stack: which buffers exist, their sizes, and how image rows are
// split between workers. Computed identically on the main thread and in every worker.
import type { MergeMethod } from '../types.js';

export interface StackGeometry {
  width: number;
  height: number;
  channels: 1 | 3;
  bitDepth: 8 | 16;
  method: MergeMethod;
  /** Laplacian pyramid levels (0 for depthmap). Level 0 is full size; level `levels` is the residual. */
  levels: number;
  /**
   * Side of the square cell (1, 2 or 4 pixels) on which focus is measured and winners are chosen.
   * Larger frames use larger cells: a fraction of the work and state, and binning lowers the noise
   * the decisions see (on synthetic 0.8 MP scenes 2×2 cells scored 2 dB better than single pixels,
   * 4×4 within 0.2 dB of 2×2); the optics of a 5–12 MP microscope camera rarely resolve single
   * pixels. The colour is still taken pixel by pixel.
   */
  cell: number;
}

/** Frames of at least this many pixels are measured on 2×2 cells, and on 4×4 from the next. */
export const CELL_2_MIN_PIXELS = 500_000;
export const CELL_4_MIN_PIXELS = 8_000_000;

export function cellSizeFor(width: number, height: number): number {
  const pixels = width * height;
  return pixels >= CELL_4_MIN_PIXELS ? 4 : pixels >= CELL_2_MIN_PIXELS ? 2 : 1;
}

/** The grid of cells the winner state lives on. */
export function cellGrid(g: StackGeometry): { width: number; height: number } {
  return { width: Math.ceil(g.width / g.cell), height: Math.ceil(g.height / g.cell) };
}

export interface PyramidLevel {
  width: number;
  height: number;
  /** Offset (in elements) of this level in the Gaussian buffer (levels ≥ 1). */
  gaussOffset: number;
  /** Offset of this level in the fused coefficient buffer (levels < `levels`). */
  fusedOffset: number;
}

/** Pyramids stop when the residual would be smaller than this, so its average stays meaningful. */
const MIN_RESIDUAL_SIZE = 8;
export const MAX_PYRAMID_LEVELS = 8;

export function pyramidLevelsFor(width: number, height: number): number {
  let levels = 0;
  let w = width;
  let h = height;
  while (
    levels < MAX_PYRAMID_LEVELS &&
    Math.ceil(w / 2) >= MIN_RESIDUAL_SIZE &&
    Math.ceil(h / 2) >= MIN_RESIDUAL_SIZE
  ) {
    w = Math.ceil(w / 2);
    h = Math.ceil(h / 2);
    levels++;
  }
  // Small images (tests, thumbnails) still get one level so the pyramid merge works on them.
  return Math.max(levels, 1);
}

export interface PyramidLayout {
  levels: PyramidLevel[];
  gaussLength: number;
  fusedLength: number;
}

export function pyramidLayout(g: StackGeometry): PyramidLayout {
  const levels: PyramidLevel[] = [];
  let w = g.width;
  let h = g.height;
  let gaussLength = 0;
  let fusedLength = 0;
  for (let l = 0; l <= g.levels; l++) {
    const level: PyramidLevel = { width: w, height: h, gaussOffset: -1, fusedOffset: -1 };
    if (l >= 1) {
      level.gaussOffset = gaussLength;
      gaussLength += w * h;
    }
    if (l < g.levels) {
      level.fusedOffset = fusedLength;
      fusedLength += w * h;
    }
    levels.push(level);
    w = Math.ceil(w / 2);
    h = Math.ceil(h / 2);
  }
  return { levels, gaussLength, fusedLength };
}

/** The rows [start, end) that worker `index` of `count` owns in an image of `rows` rows. */
export function bandOf(rows: number, count: number, index: number): { start: number; end: number } {
  const start = Math.floor((rows * index) / count);
  const end = Math.floor((rows * (index + 1)) / count);
  return { start, end };
}

export interface SharedBuffers {
  /**
   * Frame slots (interleaved, input sample type). depthmap has two: the caller copies frame k+1 into
   * one while the workers merge frame k from the other. The pyramid, whose own buffers are larger,
   * keeps to one and so to the memory target (450 MB at 12 MP). At finish, slot 0 holds the
   * pyramid's output.
   */
  frames: SharedArrayBuffer[];
  /** The raw frame awaiting resampling into a slot (aligned stacks only). */
  source?: SharedArrayBuffer;
  /** Per cell from here to `confidence`. The current frame's focus score (Float32); at finish, the fractional depth in frames. */
  score: SharedArrayBuffer;
  /** Per pixel: bit 0 the raw "new frame is sharper" decision, bit 1 the decision after filtering. */
  mask: SharedArrayBuffer;
  /** Best focus score seen so far (Float32). */
  best: SharedArrayBuffer;
  /** Index of the frame that won each pixel (Uint8). */
  index: SharedArrayBuffer;
  /** Sub-frame refinement (Uint8): see merge/depth-state.ts. */
  aux: SharedArrayBuffer;
  /** Confidence 0–255: 255 × (1 − mean score / best score). */
  confidence: SharedArrayBuffer;
  /** Sum of every frame's score (Float32), for the confidence. */
  scoreSum: SharedArrayBuffer;
  /** Per cell and channel, the sum over frames of the cell's mean colour (Float32): the fallback where no frame is sharp. */
  colourSum: SharedArrayBuffer;
  /** depthmap: the composite colour image (interleaved, input sample type). */
  composite?: SharedArrayBuffer;
  /** pyramid: the current frame's luma Y (Float32, 0–1), level 0 of its pyramid. */
  luma?: SharedArrayBuffer;
  /** pyramid: Gaussian levels 1 … L of the current frame's luma, Float32 (reused at finish). */
  gauss?: SharedArrayBuffer;
  /** pyramid: fused Laplacian coefficients of levels 0 … L-1 (Int16 scaled for 8-bit, else Float32). */
  fused?: SharedArrayBuffer;
  /** pyramid, RGB: the winners' chroma Cb, Cr interleaved (same type and scale as `fused`). */
  chroma?: SharedArrayBuffer;
  /** pyramid: running sum of the residual level, Float32. */
  residual?: SharedArrayBuffer;
}

/** Full-resolution depth and confidence, made from the cell grid at finish (cell > 1 only). */
export interface UpsampleBuffers {
  depth: SharedArrayBuffer;
  confidence: SharedArrayBuffer;
}

export function sampleBytes(bitDepth: 8 | 16): number {
  return bitDepth === 16 ? 2 : 1;
}

export function allocateBuffers(g: StackGeometry, aligned = false): SharedBuffers {
  const samples = g.width * g.height * g.channels;
  const grid = cellGrid(g);
  const cells = grid.width * grid.height;
  const buffers: SharedBuffers = {
    frames: Array.from(
      { length: g.method === 'depthmap' ? 2 : 1 },
      () => new SharedArrayBuffer(samples * sampleBytes(g.bitDepth)),
    ),
    score: new SharedArrayBuffer(cells * 4),
    mask: new SharedArrayBuffer(cells),
    best: new SharedArrayBuffer(cells * 4),
    index: new SharedArrayBuffer(cells),
    aux: new SharedArrayBuffer(cells),
    confidence: new SharedArrayBuffer(cells),
    source: aligned ? new SharedArrayBuffer(samples * sampleBytes(g.bitDepth)) : undefined,
    scoreSum: new SharedArrayBuffer(cells * 4),
    colourSum: new SharedArrayBuffer(cells * g.channels * 4),
  };
  if (g.method === 'depthmap') {
    buffers.composite = new SharedArrayBuffer(samples * sampleBytes(g.bitDepth));
  } else {
    const p = pyramidLayout(g);
    const top = p.levels[g.levels];
    buffers.gauss = new SharedArrayBuffer(p.gaussLength * 4);
    buffers.fused = new SharedArrayBuffer(p.fusedLength * (g.bitDepth === 8 ? 2 : 4));
    buffers.residual = new SharedArrayBuffer(top.width * top.height * 4);
    buffers.luma = new SharedArrayBuffer(g.width * g.height * 4);
    if (g.channels === 3)
      buffers.chroma = new SharedArrayBuffer(g.width * g.height * 2 * (g.bitDepth === 8 ? 2 : 4));
  }
  return buffers;
}
