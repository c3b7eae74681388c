// The `pyramid` merge: Laplacian-pyramid fusion that keeps, at every level, the coefficients of the
// frame that is sharpest there (Burt & Kolczynski 1993; the approach enfuse and focus-stack take).
//
//   frame ─REDUCE─► G1 ─REDUCE─► … ─► GL        Lk = Gk − EXPAND(Gk+1)
//   level 0 decisions: the focus measure (shared with the depth map), filtered by majority
//   levels ≥ 1: local energy of Lk over 3×3, raw decision, then the same majority filter
//   residual GL: averaged over all frames (its blur carries no focus information)
// Every level is a shared buffer split by rows between workers; each step reads only buffers that
// an earlier step (before a barrier) finished, so results do not depend on the number of workers.
import { majorityRow } from './consistency.js';
import { expandRow, reduceFrameRows, reduceRows } from './pyramid-ops.js';
import type { PyramidLayout, StackGeometry } from '../workers/layout.js';

/** Fused coefficients of 8-bit stacks are kept as Int16 scaled by this (coefficients lie in −1…1). */
export const INT16_COEFFICIENT_SCALE = 16000;

export interface PyramidViews {
  g: StackGeometry;
  layout: PyramidLayout;
  maxValue: number;
  frame: Uint8Array | Uint16Array;
  mask: Uint8Array;
  gauss: Float32Array;
  fused: Int16Array | Float32Array;
  fusedScale: number;
  bestActivity: Float32Array;
  activity: Float32Array;
  levelMask: Uint8Array;
  residual: Float32Array;
}

/** Scratch rows, sized for the widest level; one set per worker. */
export interface PyramidScratch {
  tmp: Float32Array;
  rows: Float32Array[];
  energy: Float32Array[];
  filtered: Uint8Array;
}

export function createPyramidScratch(width: number, channels: number): PyramidScratch {
  return {
    tmp: new Float32Array(width),
    rows: Array.from({ length: channels }, () => new Float32Array(width)),
    energy: [0, 1, 2].map(() => new Float32Array(width)),
    filtered: new Uint8Array(width),
  };
}

/** Gk+1 rows [start, end) from Gk (k = 0 reads the frame itself). */
export function reduceLevel(
  v: PyramidViews,
  level: number,
  start: number,
  end: number,
  s: PyramidScratch,
): void {
  const { g, layout } = v;
  const src = layout.levels[level];
  const dst = layout.levels[level + 1];
  if (level === 0) {
    reduceFrameRows(
      v.frame,
      g.width,
      g.height,
      g.channels,
      v.maxValue,
      v.gauss,
      dst.gaussOffset,
      dst.width,
      dst.height,
      start,
      end,
      s.tmp,
    );
    return;
  }
  for (let c = 0; c < g.channels; c++) {
    reduceRows(
      v.gauss,
      src.gaussOffset + c * src.width * src.height,
      src.width,
      src.height,
      v.gauss,
      dst.gaussOffset + c * dst.width * dst.height,
      dst.width,
      start,
      end,
      s.tmp,
    );
  }
}

/** Lk row y of every channel into s.rows (k ≥ 1). */
function laplacianRow(v: PyramidViews, level: number, y: number, s: PyramidScratch): void {
  const here = v.layout.levels[level];
  const next = v.layout.levels[level + 1];
  for (let c = 0; c < v.g.channels; c++) {
    const out = s.rows[c];
    expandRow(
      v.gauss,
      next.gaussOffset + c * next.width * next.height,
      next.width,
      next.height,
      y,
      here.width,
      out,
      s.tmp,
    );
    const g = here.gaussOffset + c * here.width * here.height + y * here.width;
    for (let x = 0; x < here.width; x++) out[x] = v.gauss[g + x] - out[x];
  }
}

function energyRow(v: PyramidViews, level: number, y: number, s: PyramidScratch, out: Float32Array): void {
  laplacianRow(v, level, y, s);
  const w = v.layout.levels[level].width;
  out.fill(0, 0, w);
  for (let c = 0; c < v.g.channels; c++) {
    const r = s.rows[c];
    for (let x = 0; x < w; x++) out[x] += r[x] * r[x];
  }
}

/** Levels ≥ 1, rows [start, end) of `level`: this frame's activity and the raw decision. */
export function decideLevel(
  v: PyramidViews,
  level: number,
  frameIndex: number,
  margin: number,
  start: number,
  end: number,
  s: PyramidScratch,
): void {
  const { width: w, height: h, levelOffset } = v.layout.levels[level];
  const factor = 1 + margin;
  const [e0, e1, e2] = s.energy;
  let above = e0,
    here = e1,
    below = e2;
  energyRow(v, level, Math.max(0, start - 1), s, above);
  energyRow(v, level, start, s, here);
  for (let y = start; y < end; y++) {
    energyRow(v, level, Math.min(h - 1, y + 1), s, below);
    const row = levelOffset + y * w;
    for (let x = 0; x < w; x++) {
      const xl = x > 0 ? x - 1 : 0;
      const xr = x < w - 1 ? x + 1 : x;
      const a =
        above[xl] + above[x] + above[xr] + here[xl] + here[x] + here[xr] + below[xl] + below[x] + below[xr];
      v.activity[row + x] = a;
      v.levelMask[row + x] = frameIndex === 0 || a > v.bestActivity[row + x] * factor ? 1 : 0;
    }
    const t = above;
    above = here;
    here = below;
    below = t;
  }
}

/** Levels ≥ 1, rows [start, end): filter the decisions and take the winners' coefficients. */
export function updateLevel(
  v: PyramidViews,
  level: number,
  start: number,
  end: number,
  s: PyramidScratch,
): void {
  const { width: w, height: h, levelOffset, fusedOffset } = v.layout.levels[level];
  const plane = w * h;
  for (let y = start; y < end; y++) {
    majorityRow(v.levelMask, levelOffset, w, h, y, s.filtered);
    const firstWin = s.filtered.indexOf(1);
    if (firstWin === -1 || firstWin >= w) continue;
    laplacianRow(v, level, y, s);
    const row = y * w;
    for (let x = 0; x < w; x++) {
      if (s.filtered[x] !== 1) continue;
      v.bestActivity[levelOffset + row + x] = v.activity[levelOffset + row + x];
      for (let c = 0; c < v.g.channels; c++)
        v.fused[fusedOffset + c * plane + row + x] = s.rows[c][x] * v.fusedScale;
    }
  }
}

/** Level 0, row y: take L0 of this frame where the depth decisions (in `wins`) chose it. */
export function updateLevel0Row(v: PyramidViews, y: number, wins: Uint8Array, s: PyramidScratch): void {
  const { width, height, channels } = v.g;
  const next = v.layout.levels[1];
  const inv = 1 / v.maxValue;
  const plane = width * height;
  const row = y * width;
  for (let c = 0; c < channels; c++) {
    const up = s.rows[c];
    expandRow(
      v.gauss,
      next.gaussOffset + c * next.width * next.height,
      next.width,
      next.height,
      y,
      width,
      up,
      s.tmp,
    );
    const f = c * plane + row;
    for (let x = 0, src = row * channels + c; x < width; x++, src += channels) {
      if (wins[x] === 1) v.fused[f + x] = (v.frame[src] * inv - up[x]) * v.fusedScale;
    }
  }
}

/** Residual rows [start, end): add this frame's GL to the running sum. */
export function addResidual(v: PyramidViews, start: number, end: number): void {
  const top = v.layout.levels[v.g.levels];
  const plane = top.width * top.height;
  for (let c = 0; c < v.g.channels; c++) {
    const base = c * plane;
    for (let p = start * top.width; p < end * top.width; p++)
      v.residual[base + p] += v.gauss[top.gaussOffset + base + p];
  }
}

/** Collapse, residual level: GL := mean residual, rows [start, end). */
export function collapseResidual(v: PyramidViews, frames: number, start: number, end: number): void {
  const top = v.layout.levels[v.g.levels];
  const plane = top.width * top.height;
  for (let c = 0; c < v.g.channels; c++) {
    const base = c * plane;
    for (let p = start * top.width; p < end * top.width; p++)
      v.gauss[top.gaussOffset + base + p] = v.residual[base + p] / frames;
  }
}

/**
 * Collapse, level k ≥ 0, rows [start, end): Gk := fused Lk + EXPAND(Gk+1). Level 0 writes the
 * final image into the frame buffer, rounded and clamped to the input's sample range.
 */
export function collapseLevel(
  v: PyramidViews,
  level: number,
  start: number,
  end: number,
  s: PyramidScratch,
): void {
  const here = v.layout.levels[level];
  const next = v.layout.levels[level + 1];
  const plane = here.width * here.height;
  const inv = 1 / v.fusedScale;
  const channels = v.g.channels;
  for (let y = start; y < end; y++) {
    for (let c = 0; c < channels; c++) {
      const up = s.rows[c];
      expandRow(
        v.gauss,
        next.gaussOffset + c * next.width * next.height,
        next.width,
        next.height,
        y,
        here.width,
        up,
        s.tmp,
      );
      const f = here.fusedOffset + c * plane + y * here.width;
      if (level > 0) {
        const g = here.gaussOffset + c * plane + y * here.width;
        for (let x = 0; x < here.width; x++) v.gauss[g + x] = v.fused[f + x] * inv + up[x];
      } else {
        const max = v.maxValue;
        for (let x = 0, o = y * here.width * channels + c; x < here.width; x++, o += channels) {
          const value = Math.round((v.fused[f + x] * inv + up[x]) * max);
          v.frame[o] = value < 0 ? 0 : value > max ? max : value;
        }
      }
    }
  }
}
