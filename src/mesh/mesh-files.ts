// The mesh's edge to files: build a mesh from a finished job's folder (depth.png, confidence.png,
// result.jpg) or from a stack in memory (the CLI), encode it and write it atomically.
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { InputError } from '../errors.js';
import { decodeFile, DEPTH_UNITS_PER_FRAME, writeFileAtomic } from '../stack/io.js';
import type { StackResult } from '../stack/stacker.js';
import type { Frame } from '../stack/types.js';
import { buildTerrainMesh, type MeshOptions, type TerrainMesh } from './build.js';
import type { MeshCalibration } from './calibration.js';
import { encodeMesh, meshFormatOf, type EncodeOptions, type MeshFormat } from './encode.js';
import type { DepthInput } from './reduce.js';

/** Browsers' WebGL guarantees 4096-pixel textures; larger ones fail on phones and small GPUs. */
export const MAX_TEXTURE_SIDE = 4096;

/** The job folder's files a mesh is made from (jobs/runners.ts RESULT_FILES). */
export const MESH_SOURCES = {
  image: 'result.jpg',
  depth: 'depth.png',
  confidence: 'confidence.png',
} as const;

export interface MeshWriteOptions extends MeshOptions, Pick<EncodeOptions, 'scale' | 'baseMm'> {}

export interface MeshSummary {
  path: string;
  format: MeshFormat;
  vertices: number;
  /** Triangles of the surface (the STL solid adds walls and a bottom). */
  surfaceTriangles: number;
  bytes: number;
  maxErrorUm: number;
  gridSize: number;
  calibration: Required<MeshCalibration>;
  /** Share of the depth map whose height was filled in from confident neighbours. */
  filledFraction: number;
}

function eightBit(frame: Frame): Uint8Array {
  if (frame.data instanceof Uint8Array) return frame.data;
  const out = new Uint8Array(frame.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (frame.data[i] * 255 + 32767) / 65535;
  return out;
}

/** The stacked image as a JPEG texture no larger than MAX_TEXTURE_SIDE on a side. */
export async function textureJpegOf(frame: Frame): Promise<Buffer> {
  const { width, height, channels } = frame;
  let image = sharp(eightBit(frame), { raw: { width, height, channels } });
  if (Math.max(width, height) > MAX_TEXTURE_SIDE)
    image = image.resize(MAX_TEXTURE_SIDE, MAX_TEXTURE_SIDE, { fit: 'inside' });
  return image.jpeg({ quality: 90 }).toBuffer();
}

async function encodeAndWrite(
  mesh: TerrainMesh,
  path: string,
  format: MeshFormat,
  image: Frame,
  options: MeshWriteOptions,
  jpeg?: Buffer,
): Promise<MeshSummary> {
  const data = encodeMesh(mesh, format, {
    scale: options.scale,
    baseMm: options.baseMm,
    image: format === 'ply' ? image : undefined,
    textureJpeg: format === 'glb' ? (jpeg ?? (await textureJpegOf(image))) : undefined,
  });
  await writeFileAtomic(path, data);
  return {
    path,
    format,
    vertices: mesh.vertices.length / 3,
    surfaceTriangles: mesh.triangles.length / 3,
    bytes: data.length,
    maxErrorUm: mesh.maxErrorUm,
    gridSize: mesh.gridSize,
    calibration: mesh.calibration,
    filledFraction: mesh.filledFraction,
  };
}

/** Builds the mesh of a stack in memory and writes it to `path` (format by extension). */
export async function meshFromStack(
  result: Pick<StackResult, 'width' | 'height' | 'channels' | 'bitDepth' | 'image' | 'depth' | 'confidence'>,
  path: string,
  calibration: MeshCalibration,
  options: MeshWriteOptions = {},
): Promise<MeshSummary> {
  const format = meshFormatOf(path);
  const { width, height, channels, bitDepth, image, depth, confidence } = result;
  const mesh = buildTerrainMesh(
    { width, height, depth, confidence, image: { channels, data: image } },
    calibration,
    options,
  );
  return encodeAndWrite(mesh, path, format, { width, height, channels, bitDepth, data: image }, options);
}

/** Reads a finished job's depth, confidence and image (as the job wrote them) into a mesh input. */
export async function readJobDepth(jobDir: string): Promise<{ input: DepthInput; image: Frame }> {
  const depthPath = join(jobDir, MESH_SOURCES.depth);
  const confidencePath = join(jobDir, MESH_SOURCES.confidence);
  const imagePath = join(jobDir, MESH_SOURCES.image);
  // Checked first: sharp's own words for a missing file are unclear, and this names all three.
  for (const path of [depthPath, confidencePath, imagePath])
    await access(path).catch((error: unknown) => {
      throw new InputError(
        'INPUT_UNREADABLE',
        path,
        'no such file (a mesh needs the job’s depth, confidence and result)',
        error,
      );
    });
  const [depthMap, confidence, image] = await Promise.all([
    decodeFile(depthPath, { channels: 1 }),
    decodeFile(confidencePath, { channels: 1 }),
    decodeFile(imagePath),
  ]);
  if (!(depthMap.data instanceof Uint16Array))
    throw new InputError('INPUT_UNREADABLE', depthPath, 'is an 8-bit image; a depth map is 16-bit grey');
  for (const [path, frame] of [
    [confidencePath, confidence],
    [imagePath, image],
  ] as const) {
    if (frame.width !== depthMap.width || frame.height !== depthMap.height)
      throw new InputError(
        'INPUT_MISMATCH',
        path,
        `is ${frame.width}×${frame.height}, the depth map ${depthMap.width}×${depthMap.height}`,
      );
  }
  const depth = new Float32Array(depthMap.data.length);
  for (let i = 0; i < depth.length; i++) depth[i] = depthMap.data[i] / DEPTH_UNITS_PER_FRAME;
  const input: DepthInput = {
    width: depthMap.width,
    height: depthMap.height,
    depth,
    confidence: eightBit(confidence),
    image: { channels: image.channels, data: image.data },
  };
  return { input, image };
}

/**
 * Builds the mesh of a finished job from its folder and writes `name` (default mesh.<format>) there,
 * atomically, so a reader never sees half a file.
 */
export async function writeMeshFromJob(
  jobDir: string,
  format: MeshFormat,
  calibration: MeshCalibration,
  options: MeshWriteOptions & { name?: string } = {},
): Promise<MeshSummary> {
  const { input, image } = await readJobDepth(jobDir);
  const mesh = buildTerrainMesh(input, calibration, options);
  // The job's result.jpg is the texture as it is, unless it is too large for a GPU.
  const jpeg =
    format === 'glb' && Math.max(image.width, image.height) <= MAX_TEXTURE_SIDE
      ? await readFile(join(jobDir, MESH_SOURCES.image))
      : undefined;
  const path = join(jobDir, options.name ?? `mesh.${format}`);
  return encodeAndWrite(mesh, path, format, image, options, jpeg);
}
