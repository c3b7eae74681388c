// Exposure drift between frames (lamp flicker, a changing exposure): one gain for all channels, from the
// median ratio of the frames' block means in linear light.
//
// Why blocks and a median: defocus keeps a region's mean light only if the region is much larger than the
// blur and nothing bright or dark sits near its border. The mean over a fixed central area broke that on a
// backlit specimen (a dark body over a bright field: the body's blur spills across any boundary), and
// "corrected" focus changes as exposure changes of up to 16 %, which blotched the stacked background.
// The median of the block ratios ignores the blocks whose content changed and keeps the many that only
// the exposure changed. One gain for all channels, because flicker and exposure scale all colours alike,
// and per channel the median failed: on the scorpion stack red and green are clipped over the whole
// background, so blue's median came from the halo around the body, whose colour changes with focus
// (up to 9 %). White balance drift is not corrected: the rig locks white balance for a stack
// (camera/arguments.ts). Blocks with a clipped sample in a channel say nothing about that channel.
import type { Frame } from '../types.js';
import { linearTable } from './linear-light.js';

/** Blocks per side. */
export const EXPOSURE_GRID = 16;
/** Fewer usable blocks than this and a channel's gain is left at 1: too little evidence. */
export const MIN_EXPOSURE_BLOCKS = 8;
// Samples per block side: a subsampled mean is plenty for a block, and 12 MP costs a few ms.
const SAMPLES_PER_BLOCK_SIDE = 24;
// Darker blocks are dominated by noise and quantisation: their ratios scatter.
const MIN_LINEAR_MEAN = 0.01;

export interface BlockMeans {
  channels: number;
  /** Linear-light mean per block and channel (block-major). */
  means: Float64Array;
  /** 1 where the block's channel had no clipped sample and enough light to compare. */
  usable: Uint8Array;
}

export function blockMeans(frame: Frame): BlockMeans {
  const { width: w, height: h, channels: ch, data, bitDepth } = frame;
  const linear = linearTable(bitDepth);
  const top = bitDepth === 16 ? 65535 : 255;
  const g = EXPOSURE_GRID;
  const stride = Math.max(1, Math.floor(Math.min(w, h) / g / SAMPLES_PER_BLOCK_SIDE));
  const means = new Float64Array(g * g * ch);
  const clipped = new Uint8Array(g * g * ch);
  const counts = new Float64Array(g * g);
  // Sample columns block by block: a block's sums stay in locals across its run of a row.
  const columnsOfBlock: number[][] = Array.from({ length: g }, () => []);
  for (let x = 0; x < w; x += stride) columnsOfBlock[Math.min(g - 1, Math.floor((x * g) / w))].push(x * ch);
  for (let y = 0; y < h; y += stride) {
    const row = Math.min(g - 1, Math.floor((y * g) / h)) * g;
    const rowStart = y * w * ch;
    for (let bx = 0; bx < g; bx++) {
      const b = row + bx;
      const columns = columnsOfBlock[bx];
      for (let c = 0; c < ch; c++) {
        let sum = 0;
        let clip = 0;
        for (let i = 0; i < columns.length; i++) {
          const v = data[rowStart + columns[i] + c];
          sum += linear[v];
          clip |= v >= top ? 1 : 0;
        }
        means[b * ch + c] += sum;
        if (clip) clipped[b * ch + c] = 1;
      }
      counts[b] += columns.length;
    }
  }
  const usable = new Uint8Array(g * g * ch);
  for (let b = 0; b < g * g; b++)
    for (let c = 0; c < ch; c++) {
      const i = b * ch + c;
      means[i] = counts[b] > 0 ? means[i] / counts[b] : 0;
      usable[i] = clipped[i] === 0 && means[i] >= MIN_LINEAR_MEAN ? 1 : 0;
    }
  return { channels: ch, means, usable };
}

/**
 * The gain, one per channel and all equal, that brings `frame` to the reference's exposure, for
 * gamma-encoded samples (exposure scales linear light; on sRGB codes it acts as about gain^(1/2.2)).
 * 1 when fewer than MIN_EXPOSURE_BLOCKS block channels are usable in both.
 */
export function exposureGains(reference: BlockMeans, frame: BlockMeans): number[] {
  const ratios: number[] = [];
  for (let i = 0; i < reference.means.length; i++)
    if (reference.usable[i] && frame.usable[i]) ratios.push(reference.means[i] / frame.means[i]);
  const gain = ratios.length < MIN_EXPOSURE_BLOCKS ? 1 : median(ratios) ** (1 / 2.2);
  return Array.from({ length: reference.channels }, () => gain);
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}
