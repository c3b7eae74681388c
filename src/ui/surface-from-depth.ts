// Builds a textured height surface in the browser from a job's depth.png, confidence.png and
// result.jpg, for when the daemon has no mesh.glb to give: x/y in image pixels, z in µm of travel.
import * as THREE from 'three';
import { cellMeans, fillDoubtful, trust, type Grid } from './depth-grid.js';
import { depthScale, frameIndexOf8bit, type DepthScale } from './depth-scale.js';
import { decodePng16 } from './png16.js';

/** Grid points on the long side: detailed enough to read, light enough for a phone. */
const GRID_LONG_SIDE = 256;
/** Depth PNG values per frame (DESIGN.md: value = frame index × 256). */
const DEPTH_UNITS_PER_FRAME = 256;

export interface DepthSurface {
  mesh: THREE.Mesh;
  zMin: number;
  zMax: number;
  unit: DepthScale['unit'];
  /** False when the depth could only be read at 8 bits (whole frames, terraced). */
  subFrame: boolean;
}

function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error(`cannot load ${src}`));
    image.src = src;
  });
}

/** An image drawn at grid size (the browser averages), first channel. */
function sampled(image: HTMLImageElement, gx: number, gy: number): Uint8ClampedArray {
  const canvas = document.createElement('canvas');
  canvas.width = gx;
  canvas.height = gy;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('this browser cannot read images into a canvas');
  context.drawImage(image, 0, 0, gx, gy);
  const rgba = context.getImageData(0, 0, gx, gy).data;
  return rgba.filter((_, i) => i % 4 === 0);
}

/** The depth in frame indices on the grid: 16-bit when the PNG can be read so, else 8-bit. */
async function depthGrid(src: string, gx: number, gy: number): Promise<{ grid: Grid; subFrame: boolean }> {
  const response = await fetch(src);
  if (!response.ok) throw new Error(`depth.png answered ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  try {
    const png = await decodePng16(bytes);
    return {
      grid: cellMeans(png.data, png.width, png.height, gx, gy, 1 / DEPTH_UNITS_PER_FRAME),
      subFrame: true,
    };
  } catch {
    const url = URL.createObjectURL(new Blob([bytes], { type: 'image/png' }));
    try {
      const samples = sampled(await loadImage(url), gx, gy);
      return {
        grid: { width: gx, height: gy, data: Float32Array.from(samples, frameIndexOf8bit) },
        subFrame: false,
      };
    } finally {
      URL.revokeObjectURL(url);
    }
  }
}

export async function surfaceFromDepth(
  jobBase: string,
  positions: (number | undefined)[],
): Promise<DepthSurface & { width: number; height: number }> {
  const picture = await loadImage(`${jobBase}/result.jpg`);
  const width = picture.naturalWidth;
  const height = picture.naturalHeight;
  const k = Math.min(1, GRID_LONG_SIDE / Math.max(width, height));
  const gx = Math.max(2, Math.round(width * k));
  const gy = Math.max(2, Math.round(height * k));
  const { grid, subFrame } = await depthGrid(`${jobBase}/depth.png`, gx, gy);
  // Without a confidence map every cell is trusted as it is.
  const confidence = await loadImage(`${jobBase}/confidence.png`).catch(() => null);
  const depth = confidence
    ? fillDoubtful(grid, Float32Array.from(sampled(confidence, gx, gy), trust))
    : grid.data;

  const scale = depthScale(positions);
  const geometry = new THREE.PlaneGeometry(width, height, gx - 1, gy - 1);
  const vertices = geometry.attributes.position as THREE.BufferAttribute;
  let zMin = Infinity;
  let zMax = -Infinity;
  // PlaneGeometry's vertices run row by row from the top-left, as the image's pixels do.
  for (let i = 0; i < vertices.count; i++) {
    const z = scale.toZ(depth[i]);
    vertices.setZ(i, z);
    zMin = Math.min(zMin, z);
    zMax = Math.max(zMax, z);
  }
  // Heights relative to the lowest point, so the surface sits on z = 0.
  for (let i = 0; i < vertices.count; i++) vertices.setZ(i, vertices.getZ(i) - zMin);
  geometry.computeVertexNormals();
  const texture = new THREE.Texture(picture);
  texture.colorSpace = THREE.SRGBColorSpace;
  texture.needsUpdate = true;
  const material = new THREE.MeshStandardMaterial({ map: texture, roughness: 0.9, metalness: 0 });
  return { mesh: new THREE.Mesh(geometry, material), width, height, zMin, zMax, unit: scale.unit, subFrame };
}
