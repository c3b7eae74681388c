// What the soak run checks on disk after each restart: every manifest readable and valid, every listed
// frame present and a complete image (full decode), every result of a done job decodable, and the
// frames a kill found listed still there, byte for byte, once recovery has run.
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { JOB_ID_PATTERN, parseManifest, UNFINISHED, type Manifest } from '../src/store/manifest.js';

export interface DiskReport {
  manifests: number;
  /** Listed frames checked this pass (present, size unchanged or decoded again). */
  frames: number;
  /** Frames decoded for the first time (or again because they changed). */
  decoded: number;
  results: number;
  jobs: Map<string, Manifest>;
  problems: string[];
  /** Unfinished writes (hidden `.name….tmp`, `name.tmp-hex`) in job folders: recovery must remove them. */
  temps: string[];
}

/** frame file name → SHA-1 of its bytes. */
export type FrameSnapshot = Map<string, string>;

export class DiskVerifier {
  readonly jobsDir: string;
  /** path → `size:mtime` of the version that decoded whole, so each frame is decoded once. */
  private readonly whole = new Map<string, string>();

  constructor(dataDir: string) {
    this.jobsDir = join(dataDir, 'jobs');
  }

  async check(): Promise<DiskReport> {
    const report: DiskReport = {
      manifests: 0,
      frames: 0,
      decoded: 0,
      results: 0,
      jobs: new Map(),
      problems: [],
      temps: [],
    };
    const names = (await readdir(this.jobsDir).catch(() => [] as string[])).filter((n) =>
      JOB_ID_PATTERN.test(n),
    );
    for (const id of names.sort()) {
      const manifest = await this.readManifest(id, report);
      if (!manifest) continue;
      report.jobs.set(id, manifest);
      for (const dir of [join(this.jobsDir, id), join(this.jobsDir, id, 'frames')])
        for (const name of await readdir(dir).catch(() => [] as string[]))
          if (/\.tmp(-[0-9a-f]+)?$/.test(name)) report.temps.push(join(dir, name));
      for (const frame of manifest.frames) {
        const problem = await this.checkImage(join(this.jobsDir, id, 'frames', frame.file), report);
        report.frames++;
        if (problem) report.problems.push(`job ${id} frame ${frame.index} (${frame.file}): ${problem}`);
      }
      if (manifest.status !== 'done') continue;
      for (const file of Object.values(manifest.results)) {
        const problem = await this.checkImage(join(this.jobsDir, id, String(file)), report);
        report.results++;
        if (problem) report.problems.push(`job ${id} result ${String(file)}: ${problem}`);
      }
    }
    return report;
  }

  /** The frames a job's manifest lists right now (the daemon stopped), with their bytes' hashes. */
  async snapshot(id: string): Promise<FrameSnapshot> {
    const shot: FrameSnapshot = new Map();
    const parsed = parseManifest(await readFile(join(this.jobsDir, id, 'manifest.json'), 'utf8'));
    if (!parsed.ok) throw new Error(`job ${id}: manifest unreadable right after the kill: ${parsed.problem}`);
    for (const frame of parsed.manifest.frames) {
      const bytes = await readFile(join(this.jobsDir, id, 'frames', frame.file));
      shot.set(frame.file, createHash('sha1').update(bytes).digest('hex'));
    }
    return shot;
  }

  /** Status of a job as its manifest on disk says, and whether result files (or their temps) exist. */
  async statusOnDisk(id: string): Promise<{ status: string; resultFiles: number }> {
    const parsed = parseManifest(await readFile(join(this.jobsDir, id, 'manifest.json'), 'utf8'));
    const files = await readdir(join(this.jobsDir, id));
    const resultFiles = files.filter((f) => /^\.?(result|depth|depth-preview|confidence)\./.test(f)).length;
    return { status: parsed.ok ? parsed.manifest.status : 'unreadable', resultFiles };
  }

  /** Problems with a snapshot after recovery: a frame gone, no longer listed, or changed. */
  async compare(id: string, before: FrameSnapshot, after: Manifest | undefined): Promise<string[]> {
    if (!after) return [`job ${id}: gone after the restart`];
    const listed = new Set(after.frames.map((f) => f.file));
    const problems: string[] = [];
    for (const [file, hash] of before) {
      if (!listed.has(file)) {
        problems.push(`job ${id}: frame ${file} was listed before the kill, not after recovery`);
        continue;
      }
      const bytes = await readFile(join(this.jobsDir, id, 'frames', file));
      if (createHash('sha1').update(bytes).digest('hex') !== hash)
        problems.push(`job ${id}: frame ${file} changed across the restart`);
    }
    return problems;
  }

  private async readManifest(id: string, report: DiskReport): Promise<Manifest | null> {
    report.manifests++;
    try {
      const parsed = parseManifest(await readFile(join(this.jobsDir, id, 'manifest.json'), 'utf8'));
      if (!parsed.ok) {
        report.problems.push(`job ${id}: manifest invalid: ${parsed.problem}`);
        return null;
      }
      if (parsed.manifest.id !== id) report.problems.push(`job ${id}: manifest names ${parsed.manifest.id}`);
      return parsed.manifest;
    } catch (error) {
      report.problems.push(`job ${id}: manifest unreadable: ${(error as Error).message}`);
      return null;
    }
  }

  /** null when the file is there and decodes whole; otherwise what is wrong. */
  private async checkImage(path: string, report: DiskReport): Promise<string | null> {
    let version: string;
    try {
      const s = await stat(path);
      version = `${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
    if (this.whole.get(path) === version) return null;
    try {
      await sharp(path, { failOn: 'truncated' }).raw().toBuffer();
    } catch (error) {
      return `does not decode whole: ${(error as Error).message}`;
    }
    this.whole.set(path, version);
    report.decoded++;
    return null;
  }
}

export const isUnfinished = (m: Manifest): boolean => UNFINISHED.has(m.status);
