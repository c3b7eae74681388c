// The simulated camera's injected faults (rig.simulated.faults), as the soak run uses them: a camera
// that crashes mid-stack, and a frame delivered cut short. The job fails cleanly with the frames it had,
// whole and restackable; the daemon goes on taking jobs.
import { readdir } from 'node:fs/promises';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, submitStack, waitForJob, type TestApp } from '../helpers/daemon.js';

let t: TestApp | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function expectWholeFrames(app: TestApp, id: string, count: number): Promise<void> {
  const job = await app.store.get(id);
  expect(job.frames.map((f) => f.index)).toEqual(Array.from({ length: count }, (_, i) => i));
  for (const frame of job.frames) {
    // A full decode, failing on truncation: the listed frame is a complete image.
    const { info } = await sharp(app.store.frameFile(id, frame.file), { failOn: 'truncated' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(160);
  }
}

async function restack(app: TestApp, id: string): Promise<string> {
  const response = await app.app.inject({ method: 'POST', url: `/api/stacks/${id}/restack` });
  expect(response.statusCode).toBe(202);
  return (await waitForJob(app, response.json<{ id: string }>().id, ['done', 'failed'])).status;
}

// The stacks here are unaligned, so that every capture is a frame and the counts below are frames'
// (an aligning stack takes its reference shot first: capture-stack.test.ts).
const unaligned = { stack: { align: 'none' } };

describe('rig.simulated.faults', () => {
  it('crashEvery: the stack fails CAMERA_FAILED at the crash, keeps its frames, and restacks', async () => {
    t = await startTestApp({ config: { rig: { simulated: { faults: { crashEvery: 4 } } } } });
    const first = await submitStack(t, { frames: 6, step: 10, ...unaligned });
    const failed = await waitForJob(t, first.body.id, ['done', 'failed']);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({
      code: 'CAMERA_FAILED',
      message: expect.stringContaining('capture 4'),
    });
    await expectWholeFrames(t, first.body.id, 3);
    expect(await restack(t, first.body.id)).toBe('done');
    // Captures 5–7 come before the next crash: the daemon carries on with the next stack.
    const next = await submitStack(t, { frames: 3, step: 10, ...unaligned });
    expect((await waitForJob(t, next.body.id, ['done', 'failed'])).status).toBe('done');
    expect((await t.app.inject({ url: '/api/status' })).json()).toMatchObject({ job: null });
  });

  it('corruptFrameEvery: a cut-off frame fails the job, is never listed, and the whole ones restack', async () => {
    t = await startTestApp({ config: { rig: { simulated: { faults: { corruptFrameEvery: 3 } } } } });
    const first = await submitStack(t, { frames: 5, step: 10, ...unaligned });
    const failed = await waitForJob(t, first.body.id, ['done', 'failed']);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: expect.stringContaining('truncated'),
    });
    await expectWholeFrames(t, first.body.id, 2);
    // The cut-off file stays on disk for a post-mortem, unlisted.
    expect(await readdir(t.store.framesDir(first.body.id))).toContain('frame-0002.jpg');
    expect(await restack(t, first.body.id)).toBe('done');
    // The failed job took 3 or 4 captures: the one after the cut-off frame is taken when that frame's
    // record has not failed yet (one record may be behind, capture-stack.ts). Camera previews take
    // the captures left up to the next multiple of 3, so the next stack's two are whole ones.
    const captured = (await readdir(t.store.framesDir(first.body.id))).filter((f) => f.startsWith('frame-'));
    for (let c = captured.length; c % 3 !== 0; c++) await t.app.inject({ url: '/api/camera/preview.jpg' });
    const next = await submitStack(t, { frames: 2, step: 10, ...unaligned });
    expect((await waitForJob(t, next.body.id, ['done', 'failed'])).status).toBe('done');
  });

  it('injects nothing by default', async () => {
    t = await startTestApp();
    expect(t.config.rig.simulated.faults).toEqual({});
  });
});
