// Turns a stack's raw depth into a height map fit for a mesh: low-confidence areas masked, spikes and
// lucky islands dropped, holes filled from confident neighbours, edge-preserving smoothing guided by
// the stacked image, and optionally the background (the slide) flattened to the lowest level.
//
//   reduce (µm, mask) ─► spikes, islands ─► [background] ─► erode rims ─► fill (push-pull + relax)
//                     ─► guided filter ─► [flatten background]
import { DEFAULT_MIN_CONFIDENCE } from './calibration.js';
import { guidedFilter } from './guided-filter.js';
import { fillHoles } from './inpaint.js';
import { reduceDepth, type DepthInput, type WorkingMap } from './reduce.js';

export interface CleanOptions {
  /** Areas whose mean confidence (0–255) is below this carry no depth. Default 96. */
  minConfidence?: number;
  /** Longest side of the working map, cells. Default 1024. */
  maxSide?: number;
  /** Guided filter radius in working cells; 0 turns smoothing off. Default: the map's longest side / 128. */
  smoothRadius?: number;
  /** Guided filter regularisation in squared luminance (0–1) units. Default 0.05² (5 % contrast). */
  smoothEps?: number;
  /** A cell further than this many frames from all but one of its neighbours is a spike. Default 2. */
  spikeFrames?: number;
  /** Confident regions smaller than this share of the map (at least 9 cells) count as noise. Default 0.001. */
  minIslandShare?: number;
  /** Flatten the unconfident region touching the border to the lowest height. Default false. */
  removeBackground?: boolean;
}

export const CLEAN_DEFAULTS = {
  minConfidence: DEFAULT_MIN_CONFIDENCE,
  maxSide: 1024,
  smoothEps: 0.05 ** 2,
  spikeFrames: 2,
  minIslandShare: 0.001,
  removeBackground: false,
} as const satisfies Omit<Required<CleanOptions>, 'smoothRadius'>;

/** Smoothing radius by map size: depth from focus resolves about 1/100 of the picture, not more. */
export function defaultSmoothRadius(w: number, h: number): number {
  return Math.max(2, Math.round(Math.max(w, h) / 128));
}

const MIN_ISLAND_CELLS = 9;
/** Width of a hole's unreliable rim, image pixels: about the stacker's focus window radius. */
const RIM_PX = 3;

export interface CleanMap {
  width: number;
  height: number;
  /** Image pixels per cell along each axis. */
  factor: number;
  heightUm: Float32Array;
  /** 1 where the cell was judged background (only with removeBackground). */
  background: Uint8Array;
  /** Cells whose height was filled in rather than measured. */
  filledCells: number;
}

/**
 * Marks valid cells that disagree (by more than `limitUm`) with all but at most one of their valid
 * neighbours: one-cell spikes. A cell on a step or a corner has two or more neighbours on its side.
 */
export function dropSpikes(map: WorkingMap, limitUm: number): number {
  const { width: w, height: h, heightUm: v, valid } = map;
  const spikes: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!valid[i]) continue;
      let neighbours = 0;
      let agree = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if ((dx === 0 && dy === 0) || xx < 0 || xx >= w || !valid[yy * w + xx]) continue;
          neighbours++;
          if (Math.abs(v[yy * w + xx] - v[i]) <= limitUm) agree++;
        }
      }
      if (neighbours >= 3 && agree < 2) spikes.push(i);
    }
  }
  for (const i of spikes) valid[i] = 0;
  return spikes.length;
}

/**
 * Labels the 4-connected regions of cells where mask[i] === value; returns per cell its region's size
 * (0 for the other cells).
 */
function regionSizes(mask: Uint8Array, value: 0 | 1, w: number, h: number): Uint32Array {
  const size = new Uint32Array(w * h);
  const members: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] !== value || size[start]) continue;
    members.length = 0;
    size[start] = 1;
    members.push(start);
    // The members list doubles as the flood fill's queue.
    for (let q = 0; q < members.length; q++) {
      const i = members[q];
      const x = i % w;
      for (const j of [x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, i - w, i + w]) {
        if (j < 0 || j >= mask.length || mask[j] !== value || size[j]) continue;
        size[j] = 1;
        members.push(j);
      }
    }
    for (const i of members) size[i] = members.length;
  }
  return size;
}

/**
 * Invalidates confident islands smaller than `minCells` inside unconfident areas: in a textureless
 * patch a few cells always clear the threshold by luck, and a fill bent to meet them is a pock mark.
 */
export function dropIslands(valid: Uint8Array, w: number, h: number, minCells: number): number {
  const size = regionSizes(valid, 1, w, h);
  let dropped = 0;
  for (let i = 0; i < valid.length; i++) {
    if (valid[i] && size[i] < minCells) {
      valid[i] = 0;
      dropped++;
    }
  }
  return dropped;
}

/** Invalidates valid cells next to an invalid one: a hole's rim mixes both sides, its depth is the worst. */
export function erodeValid(valid: Uint8Array, w: number, h: number): void {
  const rim: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!valid[i]) continue;
      const hole =
        (x > 0 && !valid[i - 1]) ||
        (x < w - 1 && !valid[i + 1]) ||
        (y > 0 && !valid[i - w]) ||
        (y < h - 1 && !valid[i + w]);
      if (hole) rim.push(i);
    }
  }
  for (const i of rim) valid[i] = 0;
}

/** Cells not valid and connected (4-neighbours) to the border through cells not valid. */
export function borderBackground(valid: Uint8Array, w: number, h: number): Uint8Array {
  const background = new Uint8Array(w * h);
  const stack: number[] = [];
  const seed = (i: number) => {
    if (!valid[i] && !background[i]) {
      background[i] = 1;
      stack.push(i);
    }
  };
  for (let x = 0; x < w; x++) {
    seed(x);
    seed((h - 1) * w + x);
  }
  for (let y = 0; y < h; y++) {
    seed(y * w);
    seed(y * w + w - 1);
  }
  while (stack.length > 0) {
    const i = stack.pop() as number;
    const x = i % w;
    if (x > 0) seed(i - 1);
    if (x < w - 1) seed(i + 1);
    if (i >= w) seed(i - w);
    if (i < (h - 1) * w) seed(i + w);
  }
  return background;
}

/** Reduces, masks, fills and smooths a stack's depth into a height map in µm. */
export function cleanDepth(input: DepthInput, umPerFrame: number, options: CleanOptions = {}): CleanMap {
  const o = { ...CLEAN_DEFAULTS, ...options };
  const map = reduceDepth(input, { minConfidence: o.minConfidence, umPerFrame, maxSide: o.maxSide });
  const { width: w, height: h, heightUm, valid } = map;
  dropSpikes(map, o.spikeFrames * Math.abs(umPerFrame));
  dropIslands(valid, w, h, Math.max(MIN_ISLAND_CELLS, Math.round(o.minIslandShare * w * h)));
  // The background is decided before the rims are eroded: erosion must not eat into the specimen.
  const background = o.removeBackground ? borderBackground(valid, w, h) : new Uint8Array(w * h);
  // The stacker's focus window (radius 3 px by default) blurs decisions across a hole's rim.
  for (let pass = Math.max(1, Math.round(RIM_PX / map.factor)); pass > 0; pass--) erodeValid(valid, w, h);
  let filledCells = 0;
  for (let i = 0; i < valid.length; i++) if (!valid[i]) filledCells++;
  // No confident cell at all (a blank slide): the raw means are all there is, keep them.
  if (!fillHoles(heightUm, valid, map.weight, w, h)) filledCells = 0;
  const radius = o.smoothRadius ?? defaultSmoothRadius(w, h);
  guidedFilter(heightUm, map.guide, w, h, { radius, eps: o.smoothEps });
  if (o.removeBackground) {
    let floor = Infinity;
    for (let i = 0; i < heightUm.length; i++) if (!background[i] && heightUm[i] < floor) floor = heightUm[i];
    if (Number.isFinite(floor))
      for (let i = 0; i < heightUm.length; i++) if (background[i]) heightUm[i] = floor;
  }
  return { width: w, height: h, factor: map.factor, heightUm, background, filledCells };
}
