// `npm run bench`: the stacker against its targets on a synthetic 12 MP × 20-frame stack, whole
// processes timed from outside, results appended to bench/results/ with a plot of their history.
//   decode-only process ─┐
//   stack --method depthmap ├─ alternated RUNS times; medians; ratios to decode-only
//   stack --method pyramid ─┘
//   peak RSS at 10 and 40 frames (40 = the 20 frames twice: the stacker cannot tell)
//   the same with --align similarity on the wobbling stack: times against its decode, and peak RSS
//   the default (--align auto) on the still stack: its cost, recorded without a target
// The stacker's own targets were set before alignment existed and are measured with --align none.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchFrames } from './frames.js';
import { historySvg, type BenchRecord } from './history.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SPEC = { width: 4000, height: 3000, frames: 20, seed: 1 };
/** The same scene shifting up to ~2 px a step, breathing 0.1 % a frame and turning up to 0.1°. */
const WOBBLE = { ...SPEC, motion: { shiftPx: 2, scalePerFrame: 0.001, rotationDeg: 0.1 } };
export const TARGETS = {
  depthmapVsDecode: 2.5,
  pyramidVsDecode: 5,
  rss40Vs10: 1.15,
  rss40Mb: 450,
  alignedDepthmapVsDecode: 3.5,
  alignedPyramidVsDecode: 6,
};
const CLI = join('dist', 'src', 'cli.js');
const DECODE_ONLY = join('dist', 'bench', 'decode-only.js');
const log = (line: string) => process.stderr.write(`${line}\n`);

interface ProcessRun {
  wallMs: number;
  output: Record<string, unknown>;
}

function runNode(args: string[]): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ wallMs, output: JSON.parse(stdout) as Record<string, unknown> });
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

async function stack(files: string[], method: string, out: string, align = 'none'): Promise<ProcessRun> {
  return runNode([
    CLI,
    'stack',
    '--json',
    '--method',
    method,
    '--align',
    align,
    '-o',
    join(out, `${method}.jpg`),
    '--depth-map',
    join(out, `${method}-depth.png`),
    ...files,
  ]);
}

function perFrameSplit(run: ProcessRun) {
  const t = run.output.timings as {
    decodeMs: number[];
    measureMs: number[];
    mergeMs: number[];
    finishMs: number;
    encodeMs: number;
  };
  const n = t.decodeMs.length;
  return {
    decodeMs: round(sum(t.decodeMs) / n),
    measureMs: round(sum(t.measureMs) / n),
    mergeMs: round(sum(t.mergeMs) / n),
    finishMs: round(t.finishMs),
    encodeMs: round(t.encodeMs),
  };
}

function alignmentCost(run: ProcessRun) {
  const t = run.output.timings as { alignMs: number[]; warpMs: number[] };
  const n = t.alignMs.length;
  return { estimateMs: round(sum(t.alignMs) / n), resampleMs: round(sum(t.warpMs) / n) };
}

const resampledFrames = (run: ProcessRun) =>
  (run.output.alignment as { resampled: boolean }[]).filter((a) => a.resampled).length;

const peakRss = (run: ProcessRun) => (run.output.resources as { peakRssMb: number }).peakRssMb;

async function main(): Promise<void> {
  const files = await benchFrames(SPEC, log);
  const out = await mkdtemp(join(tmpdir(), 'stackscope-bench-'));
  try {
    const runs: { decode: ProcessRun[]; depthmap: ProcessRun[]; pyramid: ProcessRun[]; auto: ProcessRun[] } =
      {
        decode: [],
        depthmap: [],
        pyramid: [],
        auto: [],
      };
    for (let r = 0; r < RUNS; r++) {
      // Alternating keeps a drift in the machine's speed from favouring one of them.
      runs.decode.push(await runNode([DECODE_ONLY, ...files]));
      runs.depthmap.push(await stack(files, 'depthmap', out));
      runs.pyramid.push(await stack(files, 'pyramid', out));
      runs.auto.push(await stack(files, 'depthmap', out, 'auto'));
      log(
        `run ${r + 1}/${RUNS}: decode ${round(runs.decode[r].wallMs, 0)} ms, depthmap ${round(runs.depthmap[r].wallMs, 0)} ms, pyramid ${round(runs.pyramid[r].wallMs, 0)} ms, depthmap --align auto ${round(runs.auto[r].wallMs, 0)} ms`,
      );
    }
    const rss: Record<string, { frames10: number; frames40: number }> = {};
    for (const method of ['depthmap', 'pyramid']) {
      const ten = await stack(files.slice(0, 10), method, out);
      const forty = await stack([...files, ...files], method, out);
      rss[method] = { frames10: peakRss(ten), frames40: peakRss(forty) };
      log(`${method}: peak RSS ${rss[method].frames10} MB at 10 frames, ${rss[method].frames40} MB at 40`);
    }
    // Alignment on: the wobbling stack, similarity estimated and every frame resampled.
    const wobbleFiles = await benchFrames(WOBBLE, log);
    const wobble: { decode: ProcessRun[]; depthmap: ProcessRun[]; pyramid: ProcessRun[] } = {
      decode: [],
      depthmap: [],
      pyramid: [],
    };
    for (let r = 0; r < RUNS; r++) {
      wobble.decode.push(await runNode([DECODE_ONLY, ...wobbleFiles]));
      wobble.depthmap.push(await stack(wobbleFiles, 'depthmap', out, 'similarity'));
      wobble.pyramid.push(await stack(wobbleFiles, 'pyramid', out, 'similarity'));
      log(
        `aligned run ${r + 1}/${RUNS}: decode ${round(wobble.decode[r].wallMs, 0)} ms, depthmap ${round(wobble.depthmap[r].wallMs, 0)} ms, pyramid ${round(wobble.pyramid[r].wallMs, 0)} ms`,
      );
    }
    // Memory flat in the number of frames with alignment on too (it keeps one frame more in flight).
    const alignedRss: Record<string, { frames10: number; frames40: number }> = {};
    for (const method of ['depthmap', 'pyramid']) {
      const ten = await stack(wobbleFiles.slice(0, 10), method, out, 'similarity');
      const forty = await stack([...wobbleFiles, ...wobbleFiles], method, out, 'similarity');
      alignedRss[method] = { frames10: peakRss(ten), frames40: peakRss(forty) };
      log(
        `aligned ${method}: peak RSS ${alignedRss[method].frames10} MB at 10 frames, ${alignedRss[method].frames40} MB at 40`,
      );
    }
    const wobbleDecodeMs = median(wobble.decode.map((r) => r.wallMs));
    const wobbleWall = (method: 'depthmap' | 'pyramid') => median(wobble[method].map((r) => r.wallMs));
    const aligned = {
      decodeOnlyMs: round(wobbleDecodeMs, 0),
      depthmapMs: round(wobbleWall('depthmap'), 0),
      pyramidMs: round(wobbleWall('pyramid'), 0),
      depthmapVsDecode: round(wobbleWall('depthmap') / wobbleDecodeMs, 2),
      pyramidVsDecode: round(wobbleWall('pyramid') / wobbleDecodeMs, 2),
      perFrame: alignmentCost(wobble.depthmap[0]),
      peakRssMb: { depthmap: peakRss(wobble.depthmap[0]), pyramid: peakRss(wobble.pyramid[0]) },
      rss: alignedRss,
      rss40Vs10: {
        depthmap: round(alignedRss.depthmap.frames40 / alignedRss.depthmap.frames10, 2),
        pyramid: round(alignedRss.pyramid.frames40 / alignedRss.pyramid.frames10, 2),
      },
    };
    const decodeMs = median(runs.decode.map((r) => r.wallMs));
    const wall = (method: 'depthmap' | 'pyramid') => median(runs[method].map((r) => r.wallMs));
    const autoMs = median(runs.auto.map((r) => r.wallMs));
    const figures = {
      decodeOnlyMs: round(decodeMs, 0),
      depthmapMs: round(wall('depthmap'), 0),
      pyramidMs: round(wall('pyramid'), 0),
      depthmapVsDecode: round(wall('depthmap') / decodeMs, 2),
      pyramidVsDecode: round(wall('pyramid') / decodeMs, 2),
      perFrame: { depthmap: perFrameSplit(runs.depthmap[0]), pyramid: perFrameSplit(runs.pyramid[0]) },
      rss,
      aligned,
      autoOnStill: {
        depthmapMs: round(autoMs, 0),
        depthmapVsDecode: round(autoMs / decodeMs, 2),
        resampledFrames: resampledFrames(runs.auto[0]),
        perFrame: alignmentCost(runs.auto[0]),
        peakRssMb: peakRss(runs.auto[0]),
      },
      rss40Vs10: {
        depthmap: round(rss.depthmap.frames40 / rss.depthmap.frames10, 2),
        pyramid: round(rss.pyramid.frames40 / rss.pyramid.frames10, 2),
      },
    };
    const pass = {
      depthmapVsDecode: figures.depthmapVsDecode <= TARGETS.depthmapVsDecode,
      pyramidVsDecode: figures.pyramidVsDecode <= TARGETS.pyramidVsDecode,
      rss40Vs10: Math.max(figures.rss40Vs10.depthmap, figures.rss40Vs10.pyramid) <= TARGETS.rss40Vs10,
      rss40Mb: Math.max(rss.depthmap.frames40, rss.pyramid.frames40) <= TARGETS.rss40Mb,
      alignedDepthmapVsDecode: aligned.depthmapVsDecode <= TARGETS.alignedDepthmapVsDecode,
      alignedPyramidVsDecode: aligned.pyramidVsDecode <= TARGETS.alignedPyramidVsDecode,
      alignedRss40Vs10: Math.max(aligned.rss40Vs10.depthmap, aligned.rss40Vs10.pyramid) <= TARGETS.rss40Vs10,
    };
    const record: BenchRecord = {
      date: new Date().toISOString(),
      commit: gitCommit(),
      machine: {
        cpus: cpus().length,
        cpu: cpus()[0]?.model ?? 'unknown',
        memoryGb: round(totalmem() / 2 ** 30),
        node: process.version,
      },
      stack: { ...SPEC, format: 'JPEG q93', runs: RUNS },
      figures,
      targets: TARGETS,
      pass,
    };
    await mkdir(join('bench', 'results'), { recursive: true });
    const name = record.date.replace(/[:.]/g, '-');
    await writeFile(join('bench', 'results', `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
    const history = await loadHistory();
    await writeFile(join('bench', 'results', 'history.svg'), historySvg(history, TARGETS));
    process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return 'unknown';
  }
}

async function loadHistory(): Promise<BenchRecord[]> {
  const dir = join('bench', 'results');
  // This bench's records are named by their date alone; the other benches prefix theirs (quality-, daemon-, …).
  const names = (await readdir(dir)).filter((n) => /^\d.*\.json$/.test(n)).sort();
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8')) as BenchRecord));
}

await main();
