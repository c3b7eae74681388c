// Puts a TerrainMesh into a file's coordinate system (units, up axis), and samples what a vertex needs
// from the stacked image: its colour (PLY) or its texture coordinate (GLB).
import type { TerrainMesh } from './build.js';

export interface Placement {
  /**
   * 'z': x right, y up the picture, z height (STL, PLY: slicers and CAD). 'y': x right, y height,
   * z down the picture (glTF). Both are right-handed and keep the triangles counter-clockwise outside.
   */
  up: 'z' | 'y';
  /** File units per µm, e.g. 0.001 for mm, 1e-6 for metres; times any print scale. */
  unitsPerUm: number;
}

/** Vertex positions (x, y, z per vertex) in the file's units and axes, height scaled by zScale. */
export function placeVertices(mesh: TerrainMesh, placement: Placement): Float32Array {
  const { umPerPixel, zScale } = mesh.calibration;
  const k = placement.unitsPerUm;
  const lateral = umPerPixel * k;
  const vertical = zScale * k;
  const top = mesh.imageHeight - 1;
  const v = mesh.vertices;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i += 3) {
    out[i] = v[i] * lateral;
    if (placement.up === 'z') {
      out[i + 1] = (top - v[i + 1]) * lateral;
      out[i + 2] = v[i + 2] * vertical;
    } else {
      out[i + 1] = v[i + 2] * vertical;
      out[i + 2] = v[i + 1] * lateral;
    }
  }
  return out;
}

export interface ImagePixels {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array | Uint16Array;
}

/** RGB (8-bit) of the image pixel under each vertex. */
export function vertexColours(mesh: TerrainMesh, image: ImagePixels): Uint8Array {
  const n = mesh.vertices.length / 3;
  const out = new Uint8Array(n * 3);
  const shift = image.data instanceof Uint16Array ? 8 : 0;
  for (let i = 0; i < n; i++) {
    const x = Math.min(image.width - 1, Math.max(0, Math.round(mesh.vertices[i * 3])));
    const y = Math.min(image.height - 1, Math.max(0, Math.round(mesh.vertices[i * 3 + 1])));
    const o = (y * image.width + x) * image.channels;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = image.data[o + (image.channels === 3 ? c : 0)] >> shift;
  }
  return out;
}

/** glTF texture coordinates: (0, 0) is the image's top-left corner, v grows downwards. */
export function textureCoords(mesh: TerrainMesh): Float32Array {
  const n = mesh.vertices.length / 3;
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    // Vertices sit on pixel centres: pixel x spans [x, x + 1) of the image's width.
    out[i * 2] = (mesh.vertices[i * 3] + 0.5) / mesh.imageWidth;
    out[i * 2 + 1] = (mesh.vertices[i * 3 + 1] + 0.5) / mesh.imageHeight;
  }
  return out;
}
