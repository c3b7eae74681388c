// The per-pixel winner state both merges keep: best score, winning frame, sub-frame refinement
// and confidence, updated frame by frame in constant memory (no per-frame maps are kept).
//
// Sub-frame depth: a parabola through the scores of frames i-1, i, i+1 around the winner i. The
// scores of the neighbours are never stored as maps: while frame i is the latest winner, `aux`
// holds score(i-1)/score(i) (known when the previous best was frame i-1, i.e. on the rising side of
// a unimodal focus curve; 255 = unknown); when frame i+1 arrives and loses, the parabola's vertex
// offset replaces it. Confidence is 1 − (mean score of the other frames)/best, from a running sum
// of scores: near 0 where every frame looks alike (flat background, where the best of several noisy
// scores is only a little above the rest), near 1 where one plane is clearly sharper than the rest.
import { majorityRow } from './consistency.js';

export const AUX_UNKNOWN = 255;
const AUX_SCALE = 254;

export interface DepthViews {
  width: number;
  height: number;
  score: Float32Array;
  mask: Uint8Array;
  best: Float32Array;
  index: Uint8Array;
  aux: Uint8Array;
  /** Sum of every frame's score (for the confidence). */
  sum: Float32Array;
  /** Written by depthRows at finish. */
  confidence: Uint8Array;
}

/** Relative margin a new frame must beat the best by before the raw decision flips (hysteresis). */
export const DEFAULT_SWITCH_MARGIN = 0.02;

/** Phase 1 (rows [start, end)): the raw decision "frame k is sharper here", from its scores. */
export function decideRows(
  v: DepthViews,
  frameIndex: number,
  start: number,
  end: number,
  margin: number,
  coverage: Int32Array | null = null,
): void {
  const { score, best, mask, width } = v;
  rawDecisions(score, best, mask, start * width, end * width, 1 + margin, frameIndex === 0);
  if (coverage && frameIndex > 0) voteAgainstUncovered(mask, width, start, end, coverage);
}

/**
 * The loop alone in its function: V8 compiles a function while its long loop runs, and anything met
 * for the first time after the loop (here the coverage vote) threw that code away on every frame of
 * every worker.
 */
function rawDecisions(
  score: Float32Array,
  best: Float32Array,
  mask: Uint8Array,
  from: number,
  to: number,
  factor: number,
  first: boolean,
): void {
  for (let p = from; p < to; p++) mask[p] = first || score[p] > best[p] * factor ? 1 : 0;
}

/** Cells this frame does not cover vote against it too: their scores describe a replicated border. */
function voteAgainstUncovered(
  mask: Uint8Array,
  width: number,
  start: number,
  end: number,
  coverage: Int32Array,
): void {
  for (let y = start; y < end; y++) {
    mask.fill(0, y * width, y * width + coverage[2 * y]);
    mask.fill(0, y * width + coverage[2 * y + 1], (y + 1) * width);
  }
}

/**
 * Phase 2 (rows [start, end), after every worker finished phase 1): filter the decisions, record
 * winners, and report each winning pixel through bit 1 of `mask` and `onWinRow`.
 */
export function updateRows(
  v: DepthViews,
  frameIndex: number,
  start: number,
  end: number,
  filtered: Uint8Array,
  onWinRow: ((y: number, wins: Uint8Array) => void) | null,
  coverage: Int32Array | null = null,
): void {
  // One function per case and one per row: V8 compiles each for the one shape it sees. As one
  // function, the first frame's loop was compiled first, and every other path then threw that code
  // away: five compiles of ~50 ms per worker per stack.
  if (frameIndex === 0) {
    takeFirstFrameRows(v, start, end, filtered, onWinRow, coverage);
    return;
  }
  const { mask, width, height } = v;
  for (let y = start; y < end; y++) {
    majorityRow(mask, 0, width, height, y, filtered);
    if (coverage) {
      // The majority vote must not pull an uncovered cell in with its covered neighbours.
      filtered.fill(0, 0, coverage[2 * y]);
      filtered.fill(0, coverage[2 * y + 1], width);
    }
    const anyWin = updateRow(v, frameIndex, y * width, filtered);
    if (anyWin && onWinRow) onWinRow(y, filtered);
  }
}

/** The first frame takes every cell: no decisions to filter. */
function takeFirstFrameRows(
  v: DepthViews,
  start: number,
  end: number,
  filtered: Uint8Array,
  onWinRow: ((y: number, wins: Uint8Array) => void) | null,
  coverage: Int32Array | null,
): void {
  const { score, best, index, aux, sum, mask, width } = v;
  for (let y = start; y < end; y++) {
    const row = y * width;
    // A cell the first frame does not cover holds its replicated border for now, at score 0, so
    // that the first frame that covers it takes it.
    const from = coverage ? coverage[2 * y] : 0;
    const to = coverage ? coverage[2 * y + 1] : width;
    for (let x = 0, p = row; x < width; x++, p++) {
      const s = x < from || x >= to ? 0 : score[p];
      best[p] = s;
      sum[p] = s;
      index[p] = 0;
      aux[p] = AUX_UNKNOWN;
      mask[p] = (mask[p] & 1) | 2;
    }
    filtered.fill(1, 0, width);
    if (onWinRow) onWinRow(y, filtered);
  }
}

/** One row of a later frame: records its winners and the sub-frame refinement; 1 if any cell won. */
function updateRow(v: DepthViews, frameIndex: number, row: number, filtered: Uint8Array): number {
  const { score, best, index, aux, sum, mask, width } = v;
  const previous = frameIndex - 1;
  let anyWin = 0;
  for (let x = 0, p = row; x < width; x++, p++) {
    const s = score[p];
    const b = best[p];
    sum[p] += s;
    const win = filtered[x];
    // Bit 1 of the mask carries the filtered decision to the pyramid's levels; bit 0 stays for
    // the neighbours' majority votes, which may still be reading this row.
    mask[p] = (mask[p] & 1) | (win << 1);
    if (win === 1) {
      anyWin = 1;
      aux[p] = index[p] === previous && s > 0 ? ((b < s ? b / s : 1) * AUX_SCALE + 0.5) | 0 : AUX_UNKNOWN;
      index[p] = frameIndex;
      best[p] = s;
    } else if (index[p] === previous) {
      aux[p] = vertexCode(aux[p], b, s);
    }
  }
  return anyWin;
}

/** The parabola vertex through (−1, prev), (0, best), (+1, next), coded as a byte. */
function vertexCode(prevCode: number, best: number, next: number): number {
  if (prevCode === AUX_UNKNOWN || best <= 0) return Math.round(0.5 * AUX_SCALE);
  const prev = (prevCode / AUX_SCALE) * best;
  const curvature = prev - 2 * best + next;
  let offset = curvature < 0 ? (prev - next) / (2 * curvature) : 0;
  if (offset > 0.5) offset = 0.5;
  else if (offset < -0.5) offset = -0.5;
  return Math.round((offset + 0.5) * AUX_SCALE);
}

/**
 * After the last frame, rows [start, end): fractional depth in frames (into `out`), and the confidence
 * 255 × (1 − (mean of the other frames / best)^exponent); the exponent is the measure's (see
 * FocusMeasure.confidenceExponent).
 */
export function depthRows(
  v: DepthViews,
  lastFrame: number,
  start: number,
  end: number,
  out: Float32Array,
  confidenceExponent = 1,
): void {
  const { index, aux, confidence, best, sum, width } = v;
  const frames = lastFrame + 1;
  for (let p = start * width, last = end * width; p < last; p++) {
    // The mean of the *other* frames: with few frames the best's own share would otherwise cap the
    // confidence (at 0.5 for two frames).
    const b = best[p];
    const others = frames > 1 && b > 0 ? (sum[p] - b) / ((frames - 1) * b) : 1;
    confidence[p] =
      others <= 0 ? 255 : others >= 1 ? 0 : Math.round((1 - others ** confidenceExponent) * 255);
    const i = index[p];
    // The latest winner never saw a next frame: its aux still holds a score ratio, not an offset.
    const offset = i === lastFrame || aux[p] === AUX_UNKNOWN ? 0 : aux[p] / AUX_SCALE - 0.5;
    out[p] = i + offset;
  }
}
