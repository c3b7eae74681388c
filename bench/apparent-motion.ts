// Part of `npm run bench:quality`: the motion a still stack of a tilted specimen shows between focus
// steps. Where blur varies across an edge, the edge's half-level point moves towards its sharper side;
// as focus steps, the sharp band crosses the field and the whole picture seems to slide along the tilt,
// though nothing moved. Registration measures that slide, so aligned stacks chain it (docs/alignment.md).
// A level surface is the control: blur that is uniform across the frame moves nothing.
import { makeIntegratedStack } from '../src/rig/simulated/pixel-integration.js';
import type { BlurModel } from '../src/rig/simulated/defocus.js';
import { FrameAligner, type AlignMode } from '../src/stack/align/aligner.js';

const WIDTH = 384;
const HEIGHT = 288;
const FRAMES = 20;
const RANGE_UM = 100;

const SURFACES: Record<string, (x: number, y: number) => number> = {
  // The focus band crosses the frame top to bottom over the stack.
  'tilted down the frame': (_x, y) => (RANGE_UM * y) / HEIGHT,
  level: () => RANGE_UM / 2,
};

const round = (v: number) => Math.round(v * 1000) / 1000;

/** Mean and spread of each neighbour-to-neighbour estimate's shift, px per focus step. */
function neighbourShifts(frames: ReturnType<typeof makeIntegratedStack>['frames'], mode: AlignMode) {
  const dx: number[] = [];
  const dy: number[] = [];
  for (let i = 1; i < frames.length; i++) {
    const aligner = new FrameAligner(mode);
    aligner.setReference(frames[i - 1]);
    const { transform } = aligner.align(frames[i]).report;
    dx.push(transform.dx);
    dy.push(transform.dy);
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const sd = (v: number[]) => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)));
  return {
    meanDxPx: round(mean(dx)),
    meanDyPx: round(mean(dy)),
    sdDyPx: round(sd(dy)),
    chainedDyPx: round(dy.reduce((a, b) => a + b, 0)),
  };
}

export function apparentMotion(log: (line: string) => void) {
  const rows = [];
  for (const model of ['scatter', 'gather'] as BlurModel[]) {
    for (const [surface, depth] of Object.entries(SURFACES)) {
      const { frames } = makeIntegratedStack({
        width: WIDTH,
        height: HEIGHT,
        frames: FRAMES,
        seed: 5,
        noise: 0.004,
        depthRangeUm: RANGE_UM,
        model,
        surface: depth,
      });
      const row = {
        model,
        surface,
        frames: FRAMES,
        similarity: neighbourShifts(frames, 'similarity'),
        phaseCorrelation: neighbourShifts(frames, 'translation'),
      };
      log(JSON.stringify(row));
      rows.push(row);
    }
  }
  return rows;
}
