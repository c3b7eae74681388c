// manifest.json's schema: what it accepts, what it names when it refuses, and the status sets.
import { describe, expect, it } from 'vitest';
import {
  ACTIVE,
  FINISHED,
  JOB_STATUSES,
  UNFINISHED,
  isActive,
  isFinished,
  parseManifest,
  quoteName,
  type Manifest,
} from '../../src/store/manifest.js';

const valid: Manifest = {
  version: 1,
  id: '20261128-031500-ab12',
  label: 'ant leg',
  kind: 'restack',
  status: 'done',
  createdAt: '2026-11-28T03:15:00.000Z',
  startedAt: '2026-11-28T03:15:01.000Z',
  finishedAt: '2026-11-28T03:16:00.000Z',
  params: { method: 'pyramid', start: 0, end: 200 },
  progress: { captured: 2, stacked: 2, total: 2 },
  frames: [
    {
      index: 0,
      file: 'frame-0000.jpg',
      stageUm: 0,
      capturedAt: '2026-11-28T03:15:02Z',
      exposure: { shutterUs: 8000 },
    },
    { index: 1, file: 'frame-0001.jpg', alignment: { dx: 0.5, dy: -1, trusted: true } },
  ],
  results: { image: 'result.jpg', depth: 'depth.png', depthPreview: 'depth-preview.png', mesh: 'mesh.glb' },
  timings: { captureMs: 5000, mergeMs: 800 },
  error: { code: 'CAMERA_TIMEOUT', message: 'no frame' },
  sourceJobId: '20261128-030000-0001',
};

describe('manifestSchema', () => {
  it('reads back a full manifest as written', () => {
    expect(parseManifest(JSON.stringify(valid))).toEqual({ ok: true, manifest: valid });
  });

  it('names the field that is wrong', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...valid, version: 2 }, /^version: /],
      [{ ...valid, id: '../etc' }, /^id: .*job id/],
      [{ ...valid, status: 'paused' }, /^status: /],
      [{ ...valid, createdAt: 'yesterday' }, /^createdAt: /],
      [{ ...valid, progress: { captured: -1, stacked: 0, total: 0 } }, /^progress\.captured: /],
      [{ ...valid, frames: [{ index: 0, file: '../../x.jpg' }] }, /^frames\.0\.file: .*plain file name/],
      [{ ...valid, results: { image: '/etc/passwd' } }, /^results\.image: /],
      [{ ...valid, sourceJobId: 'a/b' }, /^sourceJobId: /],
      [[], /^\(root\): /],
    ];
    for (const [input, problem] of cases) {
      const parsed = parseManifest(JSON.stringify(input));
      expect(parsed.ok).toBe(false);
      expect((parsed as { problem: string }).problem).toMatch(problem);
    }
    expect(parseManifest('{"version": 1,')).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/^not JSON/),
    });
  });
});

describe('status sets', () => {
  it('split the statuses into queued, active and finished', () => {
    expect([...FINISHED].sort()).toEqual(['cancelled', 'done', 'failed', 'interrupted']);
    expect([...ACTIVE].sort()).toEqual(['capturing', 'stacking']);
    expect([...UNFINISHED].sort()).toEqual(['capturing', 'queued', 'stacking']);
    for (const status of JOB_STATUSES) {
      expect(isFinished(status) !== UNFINISHED.has(status), status).toBe(true);
      if (isActive(status)) expect(isFinished(status)).toBe(false);
    }
  });
});

describe('quoteName', () => {
  it('escapes control characters and cuts long names', () => {
    expect(quoteName('a\nb')).toBe('"a\\nb"');
    expect(quoteName('x'.repeat(500))).toBe(`"${'x'.repeat(60)}…"`);
  });
});
