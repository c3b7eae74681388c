// The depth map → surface mesh pipeline on typed arrays (no I/O): clean the depth, resample it onto
// the decimation grid, decimate to the triangle budget, keep only the vertices the triangles use.
//
//   depth, confidence, image ─► cleanDepth ─► resampleToGrid ─► decimateGrid ─► TerrainMesh
import { checkCalibration, DEFAULT_TARGET_TRIANGLES, type MeshCalibration } from './calibration.js';
import { cleanDepth, type CleanOptions } from './clean.js';
import { decimateGrid } from './decimate.js';
import { resampleToGrid } from './grid.js';
import type { DepthInput } from './reduce.js';

export interface MeshOptions extends CleanOptions {
  /** Most triangles of the surface. Default 200 000. */
  targetTriangles?: number;
  /** Tolerance to aim for, µm of true height. Default 0.02 frame (the depth map's precision). */
  maxErrorUm?: number;
  /** Points per side of the decimation grid, 2^k + 1. Default 1025. */
  maxGridSize?: number;
}

/** A height-field surface in image terms, ready to be placed in a file's coordinate system. */
export interface TerrainMesh {
  imageWidth: number;
  imageHeight: number;
  /** Per vertex: image x (pixels, right), image y (pixels, down), height (µm, true scale). */
  vertices: Float32Array;
  /** Counter-clockwise seen from above (x right, y up, height towards the viewer). */
  triangles: Uint32Array;
  /** Per vertex, 1 when it lies in flattened background. */
  background: Uint8Array;
  calibration: Required<MeshCalibration>;
  /** No point of the decimation grid is further than this from the surface, vertically (µm). */
  maxErrorUm: number;
  gridSize: number;
  /** Image pixels per cell of the cleaned map. */
  workingFactor: number;
  /** Share of the cleaned map's cells whose height was filled in (0–1). */
  filledFraction: number;
}

export const MESH_DEFAULTS = {
  targetTriangles: DEFAULT_TARGET_TRIANGLES,
  maxErrorFrames: 0.02,
  maxGridSize: 1025,
} as const;

export function buildTerrainMesh(
  input: DepthInput,
  calibration: MeshCalibration,
  options: MeshOptions = {},
): TerrainMesh {
  const cal = checkCalibration(calibration);
  const clean = cleanDepth(input, cal.umPerFrame, options);
  const grid = resampleToGrid(
    clean,
    input.width,
    input.height,
    options.maxGridSize ?? MESH_DEFAULTS.maxGridSize,
  );
  const { triangles: gridTriangles, maxErrorUm } = decimateGrid(grid.heightUm, grid.size, {
    targetTriangles: options.targetTriangles ?? MESH_DEFAULTS.targetTriangles,
    maxErrorUm: options.maxErrorUm ?? MESH_DEFAULTS.maxErrorFrames * Math.abs(cal.umPerFrame),
  });
  const size = grid.size;
  const remap = new Int32Array(size * size).fill(-1);
  let used = 0;
  for (const g of gridTriangles) if (remap[g] < 0) remap[g] = used++;
  const vertices = new Float32Array(used * 3);
  const background = new Uint8Array(used);
  const sx = (input.width - 1) / (size - 1);
  const sy = (input.height - 1) / (size - 1);
  for (let g = 0; g < remap.length; g++) {
    const v = remap[g];
    if (v < 0) continue;
    vertices[v * 3] = (g % size) * sx;
    vertices[v * 3 + 1] = Math.floor(g / size) * sy;
    vertices[v * 3 + 2] = grid.heightUm[g];
    background[v] = grid.background[g];
  }
  const triangles = new Uint32Array(gridTriangles.length);
  for (let t = 0; t < triangles.length; t++) triangles[t] = remap[gridTriangles[t]];
  return {
    imageWidth: input.width,
    imageHeight: input.height,
    vertices,
    triangles,
    background,
    calibration: cal,
    maxErrorUm,
    gridSize: size,
    workingFactor: clean.factor,
    filledFraction: clean.filledCells / (clean.width * clean.height),
  };
}
