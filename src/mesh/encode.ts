// One TerrainMesh, three files: a printable STL solid (mm × print scale, with a base), a PLY surface
// with vertex colours (mm) and a textured GLB surface (metres, as glTF wants) for the web viewer.
import { BadArgumentError } from '../errors.js';
import type { TerrainMesh } from './build.js';
import { DEFAULT_BASE_MM, DEFAULT_STL_SCALE } from './calibration.js';
import { encodeGlb } from './glb.js';
import { placeVertices, textureCoords, vertexColours, type ImagePixels } from './place.js';
import { encodePly } from './ply.js';
import { closeWithBase, type IndexedMesh } from './solid.js';
import { encodeStl } from './stl.js';

export const MESH_FORMATS = ['stl', 'ply', 'glb'] as const;
export type MeshFormat = (typeof MESH_FORMATS)[number];

/** The format a path asks for, by its extension. */
export function meshFormatOf(path: string): MeshFormat {
  const match = /\.([a-z0-9]+)$/i.exec(path);
  const ext = match ? match[1].toLowerCase() : '';
  if ((MESH_FORMATS as readonly string[]).includes(ext)) return ext as MeshFormat;
  throw new BadArgumentError(
    `mesh ${path}: unsupported extension '${ext ? `.${ext}` : '(none)'}' (use .stl, .ply or .glb)`,
  );
}

export interface EncodeOptions {
  /** Model units per real unit: STL default mesh.stlScale (10), PLY and GLB default 1. */
  scale?: number;
  /** STL base thickness below the lowest point, printed mm. Default 2. */
  baseMm?: number;
  /** The stacked image: vertex colours of a PLY. */
  image?: ImagePixels;
  /** The stacked image as JPEG (≤ 4096 px a side): the GLB's texture. */
  textureJpeg?: Buffer;
}

/** Facts about a mesh written into its file (STL header, PLY comments, GLB asset.extras). */
export function meshFacts(
  mesh: TerrainMesh,
  unit: string,
  scale: number,
  digits = 6,
): Record<string, number | string> {
  const { umPerPixel, umPerFrame, zScale } = mesh.calibration;
  const round = (v: number) => Number(v.toPrecision(digits));
  return {
    unit,
    scale: round(scale),
    umPerPixel: round(umPerPixel),
    umPerFrame: round(umPerFrame),
    zScale: round(zScale),
    maxErrorUm: round(mesh.maxErrorUm),
  };
}

function surface(mesh: TerrainMesh, up: 'z' | 'y', unitsPerUm: number): IndexedMesh {
  return { positions: placeVertices(mesh, { up, unitsPerUm }), triangles: mesh.triangles };
}

export function encodeMesh(mesh: TerrainMesh, format: MeshFormat, options: EncodeOptions = {}): Buffer {
  const scale = options.scale ?? (format === 'stl' ? DEFAULT_STL_SCALE : 1);
  if (!(Number.isFinite(scale) && scale > 0))
    throw new BadArgumentError(`mesh scale must be positive, got ${scale}`);
  switch (format) {
    case 'stl': {
      const solid = closeWithBase(surface(mesh, 'z', 1e-3 * scale), options.baseMm ?? DEFAULT_BASE_MM);
      // Short keys, four digits: the line must fit the header's 80 bytes. Units are mm.
      const f = meshFacts(mesh, 'mm', scale, 4);
      const words = [
        `um/px=${f.umPerPixel}`,
        `um/frame=${f.umPerFrame}`,
        `zScale=${f.zScale}`,
        `scale=${f.scale}`,
        `errorUm=${f.maxErrorUm}`,
      ];
      return encodeStl(solid, `stackscope ${words.join(' ')}`);
    }
    case 'ply': {
      const colours = options.image
        ? vertexColours(mesh, options.image)
        : new Uint8Array(mesh.vertices.length).fill(200);
      const facts = Object.entries(meshFacts(mesh, 'mm', scale)).map(([k, v]) => `${k} ${v}`);
      return encodePly(surface(mesh, 'z', 1e-3 * scale), colours, ['stackscope', ...facts]);
    }
    case 'glb':
      return encodeGlb({
        mesh: surface(mesh, 'y', 1e-6 * scale),
        uvs: options.textureJpeg ? textureCoords(mesh) : undefined,
        textureJpeg: options.textureJpeg,
        extras: meshFacts(mesh, 'm', scale),
      });
  }
}
