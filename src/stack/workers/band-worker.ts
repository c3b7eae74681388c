// Worker thread: runs one stacking step on its own band of rows of the shared buffers.
// Steps and their order are decided by stacker.ts; this file only maps a step to its kernel.
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../../thread-priority.js';
import { createMeasure, type MeasureOptions } from '../measure/index.js';
import { decideRows, depthRows, updateRows, type DepthViews } from '../merge/depth-state.js';
import {
  addResidual,
  collapseLevel,
  collapseResidual,
  createPyramidScratch,
  reduceLevel,
  updateLevel0Row,
  updateLevelFromCells,
  lumaRows,
  INT16_COEFFICIENT_SCALE,
  type PyramidViews,
} from '../merge/pyramid.js';
import { cellPassWritesLuma, luminanceRows } from '../merge/luminance.js';
import {
  bandOf,
  cellGrid,
  pyramidLayout,
  type SharedBuffers,
  type StackGeometry,
  type UpsampleBuffers,
} from './layout.js';
import { upsampleRows } from '../merge/upsample.js';
import { createWarpScratch, warpRows, type WarpSpec } from '../align/resample.js';
import { accumulateCellColour, blendFallbackRows, smoothConfidenceRows } from '../merge/fallback.js';
import type { MeasureName } from '../types.js';

export interface WorkerInit {
  geometry: StackGeometry;
  buffers: SharedBuffers;
  measure: MeasureName;
  measureOptions: MeasureOptions;
  switchMargin: number;
  index: number;
  count: number;
  /** Lower this thread's priority (thread-priority.ts: on in the daemon). */
  background: boolean;
}

/** Rows measured at a time: small enough that the scratch stays in cache, large enough that halo recomputation is cheap. */
const CHUNK_ROWS = 48;

type Step = (msg: Record<string, number>) => void;

/** Views on the shared buffers and this worker's scratch, built once per stack by the 'init' step. */
function createSteps(init: WorkerInit): Record<string, Step> {
  const g = init.geometry;
  const b = init.buffers;
  const maxValue = g.bitDepth === 16 ? 65535 : 255;
  const sampleView = (buffer: SharedArrayBuffer): Uint8Array | Uint16Array =>
    g.bitDepth === 16 ? new Uint16Array(buffer) : new Uint8Array(buffer);

  const slots = b.frames.map(sampleView);
  // Where a frame that needs resampling waits, raw; 'warp' writes it, aligned, into a slot.
  const raw = b.source ? sampleView(b.source) : null;
  const warpScratch = createWarpScratch(g.width, g.channels);
  // The slot of the frame being merged; the steps that read a frame select it first.
  let frame = slots[0];
  const grid = cellGrid(g);
  const cell = g.cell;
  const depth: DepthViews = {
    width: grid.width,
    height: grid.height,
    score: new Float32Array(b.score),
    mask: new Uint8Array(b.mask),
    best: new Float32Array(b.best),
    index: new Uint8Array(b.index),
    aux: new Uint8Array(b.aux),
    confidence: new Uint8Array(b.confidence),
    sum: new Float32Array(b.scoreSum),
  };
  const composite = b.composite ? sampleView(b.composite) : null;
  const colourSum = new Float32Array(b.colourSum);
  const meanRow = new Float32Array(grid.width * g.channels);
  const layout = pyramidLayout(g);
  const coefficients = (buffer: SharedArrayBuffer) =>
    g.bitDepth === 8 ? new Int16Array(buffer) : new Float32Array(buffer);
  const pyramid: PyramidViews | null = b.fused
    ? {
        g,
        layout,
        maxValue,
        frame,
        luma: new Float32Array(b.luma!),
        gauss: new Float32Array(b.gauss!),
        fused: coefficients(b.fused),
        chroma: b.chroma ? coefficients(b.chroma) : null,
        fusedScale: g.bitDepth === 8 ? INT16_COEFFICIENT_SCALE : 1,
        residual: new Float32Array(b.residual!),
      }
    : null;
  const scratch = createPyramidScratch(g.width);
  const measure = createMeasure(init.measure, init.measureOptions);
  const halo = measure.halo;
  const lum = new Float32Array(grid.width * (CHUNK_ROWS + 2 * halo));
  const scores = new Float32Array(lum.length);
  const filtered = new Uint8Array(grid.width);
  const pixelWins = new Uint8Array(g.width);
  const source = { data: frame, width: g.width, height: g.height, channels: g.channels, maxValue, cell };
  function useSlot(slot: number): void {
    frame = slots[slot];
    source.data = frame;
    if (pyramid) pyramid.frame = frame;
  }

  const own = (rows: number) => bandOf(rows, init.count, init.index);
  const levelRows = (level: number) => own(layout.levels[level].height);
  const ownCells = () => own(grid.height);

  /**
   * Focus scores and raw decisions of this band's cells, and the cells' colour for the fallback mean;
   * with `luma`, the luma of these cells' pixel rows too (luminance.ts: cellPassWritesLuma).
   */
  function measureBand(frameIndex: number, coverage: Int32Array | null, luma: Float32Array | null): void {
    const { start, end } = ownCells();
    const w = grid.width;
    let colourServed = false;
    for (let c0 = start; c0 < end; c0 += CHUNK_ROWS) {
      const c1 = Math.min(end, c0 + CHUNK_ROWS);
      const first = c0 - halo;
      const rows = c1 - c0 + 2 * halo;
      // Only the chunk's own rows add colour and luma: its halo rows belong to neighbouring chunks.
      colourServed = luminanceRows(source, first, rows, lum, {
        sum: colourSum,
        from: halo,
        to: halo + c1 - c0,
        luma,
      });
      measure.compute({ lum, width: w, rows, firstRow: first }, scores);
      depth.score.set(scores.subarray(halo * w, (halo + c1 - c0) * w), c0 * w);
    }
    if (!colourServed)
      accumulateCellColour(frame, g.width, g.height, g.channels, cell, start, end, colourSum);
    decideRows(depth, frameIndex, start, end, init.switchMargin, coverage);
  }

  /** The pixel rows of cell row `cy`, each with the cell decisions spread over its pixels. */
  function forPixelRows(
    cy: number,
    wins: Uint8Array,
    visit: (y: number, pixelWins: Uint8Array) => void,
  ): void {
    if (cell === 1) {
      visit(cy, wins);
      return;
    }
    const width = g.width;
    for (let x = 0; x < width; x++) pixelWins[x] = wins[(x / cell) | 0];
    for (let y = cy * cell, end = Math.min(g.height, y + cell); y < end; y++) visit(y, pixelWins);
  }

  /** depthmap: copy the pixels of cell row `cy`'s winning cells into the composite, run by run (memcpy). */
  function copyWinnerCells(cy: number, wins: Uint8Array): void {
    const rowSamples = g.width * g.channels;
    const cellSamples = cell * g.channels;
    const cellsWide = grid.width;
    for (let cx = 0; cx < cellsWide;) {
      if (wins[cx] !== 1) {
        cx++;
        continue;
      }
      const runStart = cx;
      while (cx < cellsWide && wins[cx] === 1) cx++;
      const from = runStart * cellSamples;
      const to = Math.min(rowSamples, cx * cellSamples);
      for (let y = cy * cell, end = Math.min(g.height, y + cell); y < end; y++) {
        const o = y * rowSamples;
        composite!.set(frame.subarray(o + from, o + to), o + from);
      }
    }
  }
  const takeLevel0Row = (y: number, wins: Uint8Array) => updateLevel0Row(pyramid!, y, wins, scratch);

  const steps: Record<string, Step> = {
    measure(msg) {
      useSlot(msg.slot);
      const coverage = (msg as unknown as { coverage: Int32Array | null }).coverage;
      // The cell bands partition the cell rows, so luma written by the cell pass covers every pixel row
      // once across the workers; the reduce step after the barrier reads it whole.
      const lumaByCells = pyramid !== null && cellPassWritesLuma(source);
      measureBand(msg.frame, coverage, lumaByCells ? pyramid.luma : null);
      if (pyramid && !lumaByCells) {
        const { start, end } = own(g.height);
        lumaRows(pyramid, start, end);
      }
    },
    reduce({ level }) {
      const { start, end } = levelRows(level + 1);
      reduceLevel(pyramid!, level, start, end, scratch);
    },
    update(msg) {
      const { frame: k, slot } = msg;
      const coverage = (msg as unknown as { coverage: Int32Array | null }).coverage;
      useSlot(slot);
      const { start, end } = ownCells();
      const onWin = pyramid
        ? (cy: number, wins: Uint8Array) => forPixelRows(cy, wins, takeLevel0Row)
        : copyWinnerCells;
      updateRows(depth, k, start, end, filtered, onWin, coverage);
    },
    warp(msg) {
      const { slot, start, end } = { slot: msg.slot, ...own(g.height) };
      const spec = (msg as unknown as { spec: WarpSpec }).spec;
      warpRows(
        raw!,
        slots[slot],
        { width: g.width, height: g.height, channels: g.channels, maxValue },
        spec,
        start,
        end,
        warpScratch,
      );
    },
    updateLevels() {
      for (let l = 1; l < g.levels; l++) {
        const rows = levelRows(l);
        updateLevelFromCells(
          pyramid!,
          l,
          rows.start,
          rows.end,
          depth.mask,
          grid.width,
          grid.height,
          cell,
          scratch,
        );
      }
      const top = levelRows(g.levels);
      addResidual(pyramid!, top.start, top.end);
    },
    fallback(msg) {
      const { frames } = msg;
      const confidence = new Uint8Array((msg as unknown as { confidence: SharedArrayBuffer }).confidence);
      const image = composite ?? frame;
      const { start, end } = own(g.height);
      blendFallbackRows(
        image,
        confidence,
        colourSum,
        frames,
        g.width,
        g.height,
        g.channels,
        cell,
        start,
        end,
        meanRow,
      );
    },
    depth({ lastFrame }) {
      const { start, end } = ownCells();
      depthRows(depth, lastFrame, start, end, depth.score, measure.confidenceExponent);
    },
    smoothConfidence() {
      // Into the mask buffer, free once the last frame is merged; upsample and fallback read it there.
      const { start, end } = ownCells();
      smoothConfidenceRows(
        depth.confidence,
        grid.width,
        grid.height,
        start,
        end,
        depth.mask,
        new Float32Array(grid.width),
      );
    },
    upsample(msg) {
      const out = msg as unknown as UpsampleBuffers;
      const { start, end } = own(g.height);
      const [depthOut, confidenceOut] = [new Float32Array(out.depth), new Uint8Array(out.confidence)];
      upsampleRows(
        depth.score,
        depth.mask,
        grid.width,
        grid.height,
        cell,
        g.width,
        start,
        end,
        depthOut,
        confidenceOut,
      );
    },
    collapseResidual({ frames }) {
      const { start, end } = levelRows(g.levels);
      collapseResidual(pyramid!, frames, start, end);
    },
    collapse({ level }) {
      useSlot(0);
      const { start, end } = levelRows(level);
      collapseLevel(pyramid!, level, start, end, scratch);
    },
  };
  return steps;
}

const port = parentPort!;
let steps: Record<string, Step> | null = null;
// The pool's barrier (pool.ts): [0] steps finished by all workers, [1] set when the pool gave up.
const { sync: syncBuffer, count: workers } = workerData as { sync: SharedArrayBuffer; count: number };
const sync = new Int32Array(syncBuffer);

/** Waits until every worker has finished steps 0 … seq − 1: a step reads what the others wrote. */
function awaitTurn(seq: number): void {
  const needed = seq * workers;
  for (;;) {
    if (Atomics.load(sync, 1) !== 0) throw new Error('the stack was stopped (another step failed)');
    const done = Atomics.load(sync, 0);
    if (done >= needed) return;
    Atomics.wait(sync, 0, done, 1000);
  }
}

port.on('message', (msg: Record<string, number> & { op: string; id: number; seq: number }) => {
  try {
    awaitTurn(msg.seq);
    const started = performance.now();
    if (msg.op === 'init') {
      // In the daemon, stacking takes every idle cycle but yields to the API thread (status, downloads).
      if ((msg as unknown as WorkerInit).background) lowerThreadPriority();
      steps = createSteps(msg as unknown as WorkerInit);
    } else {
      const step = steps?.[msg.op];
      if (!step) throw new Error(steps ? `unknown step '${msg.op}'` : `step '${msg.op}' before init`);
      step(msg);
    }
    port.postMessage({ id: msg.id, ok: true, ms: performance.now() - started });
  } catch (error) {
    port.postMessage({
      id: msg.id,
      ok: false,
      message: error instanceof Error ? error.message : String(error),
    });
  } finally {
    Atomics.add(sync, 0, 1);
    Atomics.notify(sync, 0);
  }
});
