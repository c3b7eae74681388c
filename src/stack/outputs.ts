// Writes a finished stack's products (image, 16-bit depth map, colour depth preview, confidence) to
// the paths asked for, each atomically, in parallel. The CLI and the jobs share it.
import { depthPreview } from './depth-preview.js';
import { encodeDepthPng, encodeImage, outputFormatOf, writeFileAtomic } from './io.js';
import type { StackResult } from './stacker.js';

export interface StackOutputPaths {
  image: string;
  depthMap?: string;
  depthPreview?: string;
  confidence?: string;
}

/** Encodes and writes every requested output; resolves with the time it took (ms). */
export async function writeStackOutputs(
  result: StackResult,
  paths: StackOutputPaths,
  options: { quality?: number } = {},
): Promise<number> {
  const t0 = performance.now();
  const { width, height } = result;
  const writes: Promise<void>[] = [
    encodeImage(
      { width, height, channels: result.channels, bitDepth: result.bitDepth, data: result.image },
      outputFormatOf(paths.image),
      { quality: options.quality },
    ).then((b) => writeFileAtomic(paths.image, b)),
  ];
  const { depthMap, depthPreview: previewPath, confidence } = paths;
  if (depthMap)
    writes.push(encodeDepthPng(result.depth, width, height).then((b) => writeFileAtomic(depthMap, b)));
  if (previewPath) {
    writes.push(
      depthPreview(result.depth, result.confidence, width, height, result.frames)
        .then((preview) => encodeImage(preview, outputFormatOf(previewPath)))
        .then((b) => writeFileAtomic(previewPath, b)),
    );
  }
  if (confidence) {
    const map = { width, height, channels: 1 as const, bitDepth: 8 as const, data: result.confidence };
    writes.push(encodeImage(map, 'png').then((b) => writeFileAtomic(confidence, b)));
  }
  await Promise.all(writes);
  return performance.now() - t0;
}
