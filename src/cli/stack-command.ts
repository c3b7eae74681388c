// `stackscope stack`: parse and check the flags, stack the files, write the outputs, print a summary.
// Contract: ../shared/DESIGN.md "Command-line contract"; exit 0 ok, 2 bad arguments or input, 1 failure.
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { BadArgumentError } from '../errors.js';
import { DEFAULT_UM_PER_FRAME, DEFAULT_UM_PER_PIXEL } from '../mesh/calibration.js';
import { meshFormatOf } from '../mesh/encode.js';
import { meshFromStack, type MeshSummary } from '../mesh/mesh-files.js';
import { DEPTH_UNITS_PER_FRAME, listInputs, outputFormatOf } from '../stack/io.js';
import { writeStackOutputs } from '../stack/outputs.js';
import { ALIGN_MODES, type AlignMode } from '../stack/align/aligner.js';
import { stackFiles } from '../stack/stack-files.js';
import { DEFAULT_MEASURE, DEFAULT_METHOD } from '../stack/stacker.js';
import { MEASURES, METHODS, type MeasureName, type MergeMethod } from '../stack/types.js';
import { createProgress } from './progress.js';

export const STACK_USAGE = `Usage: stackscope stack [options] <files… | folder>

Stacks a focus series into one sharp image (inputs in natural name order; any format sharp reads).

Options:
  -o, --output FILE        stacked image (.jpg, .png, .tif; 16-bit PNG/TIFF for 16-bit inputs) [stacked.jpg]
      --depth-map FILE     16-bit grey PNG, value = frame index × ${DEPTH_UNITS_PER_FRAME}
      --depth-preview FILE colourised depth map (PNG or JPEG)
      --confidence FILE    8-bit grey PNG: how decisively one frame was sharpest
      --mesh FILE          3D model of the depth map: .stl (printable solid), .ply (vertex
                           colours) or .glb (textured); docs/mesh.md
      --um-per-pixel N     µm of specimen per image pixel, for the mesh [${DEFAULT_UM_PER_PIXEL}]
      --um-per-frame N     µm between frames (the focus step), for the mesh [${DEFAULT_UM_PER_FRAME}]
      --method M           ${METHODS.join('|')} [${DEFAULT_METHOD}]
      --measure M          ${MEASURES.join('|')} [${DEFAULT_MEASURE}]
      --align A            auto|none|translation|similarity [auto]; auto estimates every
                           frame's shift, scale and rotation and resamples only the frames
                           that move (docs/alignment.md); none skips the estimate
      --reference R        first|middle|N (frame number, from 1) [middle]: the frame the
                           others are aligned to, whose geometry the output keeps
      --threads N          worker threads [all cores]
      --window-radius N    focus window radius in pixels, laplacian/tenengrad [3]
      --quality N          JPEG quality 1–100 [95]
      --json               print a JSON summary on stdout
  -q, --quiet              no progress on stderr
  -h, --help               this text
`;

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new BadArgumentError(`--${flag}: expected one of ${allowed.join(', ')}, got '${value}'`);
}

function positiveNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0))
    throw new BadArgumentError(`--${flag}: expected a number of µm greater than 0, got '${value}'`);
  return n;
}

function wholeNumber(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new BadArgumentError(`--${flag}: expected a whole number from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

export interface StackCommandOptions {
  inputs: string[];
  output: string;
  depthMap?: string;
  depthPreview?: string;
  confidence?: string;
  mesh?: string;
  umPerPixel: number;
  umPerFrame: number;
  method: MergeMethod;
  measure: MeasureName;
  align: AlignMode;
  reference: string;
  threads?: number;
  windowRadius?: number;
  quality?: number;
  json: boolean;
  quiet: boolean;
}

export function parseStackArgs(argv: string[]): StackCommandOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o' },
        'depth-map': { type: 'string' },
        'depth-preview': { type: 'string' },
        confidence: { type: 'string' },
        mesh: { type: 'string' },
        'um-per-pixel': { type: 'string' },
        'um-per-frame': { type: 'string' },
        method: { type: 'string' },
        measure: { type: 'string' },
        align: { type: 'string' },
        reference: { type: 'string' },
        threads: { type: 'string' },
        'window-radius': { type: 'string' },
        quality: { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new BadArgumentError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (parsed.positionals.length === 0) throw new BadArgumentError('no input files or folder given');
  const reference = v.reference ?? 'middle';
  if (!/^(first|middle|[1-9][0-9]*)$/.test(reference)) {
    throw new BadArgumentError(
      `--reference: expected first, middle or a frame number from 1, got '${reference}'`,
    );
  }
  const align = oneOf('align', v.align, ALIGN_MODES, 'auto');
  const options: StackCommandOptions = {
    inputs: parsed.positionals,
    output: v.output ?? 'stacked.jpg',
    depthMap: v['depth-map'],
    depthPreview: v['depth-preview'],
    confidence: v.confidence,
    mesh: v.mesh,
    umPerPixel: positiveNumber('um-per-pixel', v['um-per-pixel'], DEFAULT_UM_PER_PIXEL),
    umPerFrame: positiveNumber('um-per-frame', v['um-per-frame'], DEFAULT_UM_PER_FRAME),
    method: oneOf('method', v.method, METHODS, DEFAULT_METHOD),
    measure: oneOf('measure', v.measure, MEASURES, DEFAULT_MEASURE),
    align,
    reference,
    threads: wholeNumber('threads', v.threads, 1, 256),
    windowRadius: wholeNumber('window-radius', v['window-radius'], 1, 64),
    quality: wholeNumber('quality', v.quality, 1, 100),
    json: v.json ?? false,
    quiet: v.quiet ?? false,
  };
  // Check every output's extension before hours of work, not after.
  outputFormatOf(options.output);
  for (const [flag, path] of [
    ['depth-map', options.depthMap],
    ['confidence', options.confidence],
  ] as const) {
    if (path !== undefined && outputFormatOf(path) !== 'png')
      throw new BadArgumentError(`--${flag} ${path}: must be a .png file`);
  }
  if (options.depthPreview !== undefined) outputFormatOf(options.depthPreview);
  if (options.mesh !== undefined) meshFormatOf(options.mesh);
  return options;
}

function resourceSummary(): { peakRssMb: number; userCpuMs: number; systemCpuMs: number } {
  const usage = process.resourceUsage();
  return {
    peakRssMb: Math.round(usage.maxRSS / 1024),
    userCpuMs: Math.round(usage.userCPUTime / 1000),
    systemCpuMs: Math.round(usage.systemCPUTime / 1000),
  };
}

export async function runStackCommand(o: StackCommandOptions): Promise<void> {
  const started = performance.now();
  const { files, skipped } = await listInputs(o.inputs);
  const progress = createProgress(process.stderr, o.quiet || o.json);
  const result = await stackFiles(
    files,
    {
      method: o.method,
      measure: o.measure,
      threads: o.threads,
      windowRadius: o.windowRadius,
      align: o.align,
      reference: o.reference === 'first' || o.reference === 'middle' ? o.reference : Number(o.reference) - 1,
    },
    (p) => progress.update(p.done, p.total, basename(p.file)),
  );
  const { width, height } = result;
  const encodeMs = await writeStackOutputs(
    result,
    { image: o.output, depthMap: o.depthMap, depthPreview: o.depthPreview, confidence: o.confidence },
    { quality: o.quality },
  );
  // The mesh comes last: the other outputs are on disk even if it fails.
  let mesh: MeshSummary | null = null;
  let meshMs = 0;
  if (o.mesh) {
    const t0 = performance.now();
    mesh = await meshFromStack(result, o.mesh, { umPerPixel: o.umPerPixel, umPerFrame: o.umPerFrame });
    meshMs = performance.now() - t0;
  }
  progress.end(o.quiet ? undefined : `stacked ${result.frames} frames (${width}×${height}) → ${o.output}`);
  if (o.json) {
    const round = (ms: number) => Math.round(ms * 10) / 10;
    const round3 = (v: number) => Math.round(v * 1e3) / 1e3;
    const round6 = (v: number) => Math.round(v * 1e6) / 1e6;
    const summary = {
      inputs: files,
      skipped,
      width,
      height,
      channels: result.channels,
      bitDepth: result.bitDepth,
      frames: result.frames,
      method: result.method,
      measure: result.measure,
      align: o.align,
      reference: o.reference,
      referenceFile: files[result.referenceIndex],
      // Per frame: the transform taking reference pixels to this frame's (see docs/alignment.md).
      alignment: result.alignment.map((a, i) => ({
        frame: i,
        file: files[i],
        dx: round3(a.transform.dx),
        dy: round3(a.transform.dy),
        scale: round6(a.transform.scale),
        rotationDeg: round3(a.transform.rotationDeg),
        confidence: round3(a.transform.confidence),
        trusted: a.trusted,
        source: a.source,
        gains: a.gains.map(round6),
        resampled: a.resampled,
      })),
      timings: {
        totalMs: round(performance.now() - started),
        decodeMs: result.decodeMs.map(round),
        alignMs: result.alignMs.map(round),
        warpMs: result.timings.map((t) => round(t.warpMs)),
        measureMs: result.timings.map((t) => round(t.measureMs)),
        mergeMs: result.timings.map((t) => round(t.mergeMs)),
        finishMs: round(result.finishMs),
        encodeMs: round(encodeMs),
        ...(o.mesh ? { meshMs: round(meshMs) } : {}),
      },
      outputs: {
        image: o.output,
        depthMap: o.depthMap ?? null,
        depthPreview: o.depthPreview ?? null,
        confidence: o.confidence ?? null,
        // Only when asked for, so summaries of stacks without a mesh keep their shape.
        ...(o.mesh ? { mesh: o.mesh } : {}),
      },
      ...(mesh
        ? {
            mesh: {
              format: mesh.format,
              vertices: mesh.vertices,
              surfaceTriangles: mesh.surfaceTriangles,
              bytes: mesh.bytes,
              maxErrorUm: round6(mesh.maxErrorUm),
              umPerPixel: mesh.calibration.umPerPixel,
              umPerFrame: mesh.calibration.umPerFrame,
            },
          }
        : {}),
      depthUnitsPerFrame: DEPTH_UNITS_PER_FRAME,
      // The whole process (worker threads included): what a Pi must have free for this stack.
      resources: resourceSummary(),
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  }
}
