// Resamples a cleaned height map onto the square (2^k + 1)-point grid the decimator works on. The grid
// spans the image from the first to the last pixel centre on both axes (cells are stretched, not
// cropped, for a non-square image), so the mesh covers the whole picture.
import type { CleanMap } from './clean.js';

export interface HeightGrid {
  /** Points per side: 2^k + 1. */
  size: number;
  /** Heights in µm, row-major, row 0 = the image's top row. */
  heightUm: Float32Array;
  /** 1 where the point lies in flattened background. */
  background: Uint8Array;
  /** Image size in pixels: grid column i sits at pixel x = i / (size − 1) × (imageWidth − 1). */
  imageWidth: number;
  imageHeight: number;
}

/** Smallest 2^k + 1 ≥ `points`, but at most maxSize (itself 2^k + 1). */
export function gridSizeFor(points: number, maxSize: number): number {
  let tile = 1;
  while (tile + 1 < points && tile * 2 + 1 <= maxSize) tile *= 2;
  return tile + 1;
}

/** Bilinear heights of the clean map at each grid point (nearest cell for the background flag). */
export function resampleToGrid(
  map: CleanMap,
  imageWidth: number,
  imageHeight: number,
  maxSize = 1025,
): HeightGrid {
  const size = gridSizeFor(Math.max(map.width, map.height), maxSize);
  const heightUm = new Float32Array(size * size);
  const background = new Uint8Array(size * size);
  const { width: w, height: h, factor: f } = map;
  // Working cell c's centre is image pixel c·f + (f − 1)/2; the map is clamped past the edge cells.
  const toCells = (pixel: number, cells: number) =>
    Math.min(Math.max((pixel - (f - 1) / 2) / f, 0), cells - 1);
  const xs = new Float64Array(size);
  const ys = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    xs[i] = toCells((i / (size - 1)) * (imageWidth - 1), w);
    ys[i] = toCells((i / (size - 1)) * (imageHeight - 1), h);
  }
  const v = map.heightUm;
  for (let j = 0; j < size; j++) {
    const y0 = Math.floor(ys[j]);
    const y1 = Math.min(y0 + 1, h - 1);
    const fy = ys[j] - y0;
    for (let i = 0; i < size; i++) {
      const x0 = Math.floor(xs[i]);
      const x1 = Math.min(x0 + 1, w - 1);
      const fx = xs[i] - x0;
      const top = v[y0 * w + x0] + (v[y0 * w + x1] - v[y0 * w + x0]) * fx;
      const bottom = v[y1 * w + x0] + (v[y1 * w + x1] - v[y1 * w + x0]) * fx;
      const o = j * size + i;
      heightUm[o] = top + (bottom - top) * fy;
      background[o] = map.background[Math.round(ys[j]) * w + Math.round(xs[i])];
    }
  }
  return { size, heightUm, background, imageWidth, imageHeight };
}
