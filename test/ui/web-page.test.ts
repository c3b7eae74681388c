// End to end: Debian's chromium (playwright-core, headless) drives the web page served by a real
// daemon on the simulated rig: jog, a stack run and watched, its result, 3D, schedules, errors, token.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUiDaemon, type UiDaemon } from '../helpers/ui-daemon.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = resolve(import.meta.dirname, '../../test-output/ui');

/** Polls until the value passes (vitest's expect.poll with a page-sized timeout). */
const eventually = <T>(read: () => T | Promise<T>, timeout = 10_000) =>
  expect.poll(read, { timeout, interval: 50 });

/** For locator.evaluate on an <img> (this file is compiled without the DOM's types). */
const naturalWidth = (img: unknown) => (img as { naturalWidth: number }).naturalWidth;

interface Status {
  stage: { position: { um: number } };
  job: { id: string } | null;
}

describe.skipIf(!existsSync(CHROMIUM))('the web page, on a daemon with the simulated rig', () => {
  let daemon: UiDaemon;
  let browser: Browser;
  /** alert/confirm/prompt opened by the page: there must be none. */
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  let jobId = '';

  const api = async <T>(path: string): Promise<T> =>
    (await fetch(`${daemon.url}${path}`)).json() as Promise<T>;
  /** A request's status, its body read to the end (an unread body keeps the connection, and the daemon's close, waiting). */
  const statusOf = async (path: string, method = 'GET'): Promise<number> => {
    const response = await fetch(`${daemon.url}${path}`, { method });
    await response.arrayBuffer();
    return response.status;
  };
  const position = async () => (await api<Status>('/api/status')).stage.position.um;

  async function open(path: string, phone = false): Promise<Page> {
    const page = await browser.newPage(
      phone
        ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }
        : { viewport: { width: 1280, height: 860 } },
    );
    page.setDefaultTimeout(10_000);
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${daemon.url}${path}`);
    return page;
  }
  /** A screenshot from the top of the page, once its pictures have loaded. */
  async function shot(page: Page, name: string): Promise<void> {
    // Strings run in the page: this file is compiled without the DOM's types.
    await page.evaluate('window.scrollTo(0, 0)');
    await page.waitForFunction('[...document.images].every((image) => image.complete)');
    await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  }
  async function post(path: string, body: unknown): Promise<{ id: string }> {
    const response = await fetch(`${daemon.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(202);
    return (await response.json()) as { id: string };
  }

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    daemon = await startUiDaemon();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // WebGL without a GPU: SwiftShader, which current Chromium enables only on request.
      args: ['--enable-unsafe-swiftshader', '--use-angle=swiftshader'],
    });
  });

  afterAll(async () => {
    // The browser first: its event stream would hold the daemon's close open.
    await browser?.close();
    await daemon?.close();
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('shows the stage position and jogs it with the buttons and the arrow keys', async () => {
    const page = await open('/');
    const start = await position();
    const shown = page.locator('.stage .position');
    await eventually(() => shown.textContent()).toBe(`${start.toFixed(1)} µm`);
    await page.getByRole('button', { name: 'Up, fine (↑)' }).click();
    await eventually(() => shown.textContent()).toBe(`${(start + 5).toFixed(1)} µm`);
    await page.keyboard.press('ArrowDown');
    await eventually(position).toBeCloseTo(start, 1);
    await page.keyboard.press('Shift+ArrowUp');
    await eventually(position).toBeCloseTo(start + 50, 1);
    await eventually(() => shown.textContent()).toBe(`${(start + 50).toFixed(1)} µm`);
    await page.locator('input[name=goto]').fill('1000');
    await page.getByRole('button', { name: 'Go', exact: true }).click();
    await eventually(position).toBeCloseTo(1000, 1);
    await page.close();
  });

  it('shows the live camera while idle, refreshed, and stops it on a second click', async () => {
    const page = await open('/');
    const button = page.getByRole('button', { name: 'Live camera' });
    await button.click();
    const frame = page.locator('.live-frame img.frame');
    await eventually(() => frame.getAttribute('src')).toMatch(/^\/api\/camera\/preview\.jpg\?t=\d+$/);
    const first = await frame.getAttribute('src');
    await eventually(() => frame.getAttribute('src')).not.toBe(first);
    await eventually(() => page.locator('.live-frame .caption').textContent()).toBe(
      'Live camera: where the stage is now',
    );
    await button.click();
    await eventually(() => button.getAttribute('aria-pressed')).toBe('false');
    await page.close();
  });

  it('runs a stack set with Set start / Set end, shows its progress and frames, and finishes', async () => {
    const page = await open('/');
    const goTo = async (um: number) => {
      await page.locator('input[name=goto]').fill(String(um));
      await page.getByRole('button', { name: 'Go', exact: true }).click();
      await eventually(position).toBeCloseTo(um, 1);
      await eventually(() => page.locator('.stage .position').textContent()).toBe(`${um.toFixed(1)} µm`);
    };
    await goTo(940);
    await page.getByRole('button', { name: 'Set start' }).click();
    await goTo(1060);
    await page.getByRole('button', { name: 'Set end' }).click();
    await page.locator('input[name=step]').fill('20');
    await eventually(() => page.locator('input[name=frames]').inputValue()).toBe('7');
    await eventually(() => page.locator('.planned').textContent()).toBe(
      '7 frames from 940 to 1060 µm, 20 µm apart',
    );
    // A settle time long enough to see the job run.
    await page.getByText('More settings').click();
    await page.locator('input[name=settleMs]').fill('250');
    await page.locator('input[name=label]').fill('browser stack');
    // Every progress text and frame shown, as the page showed them.
    await page.evaluate(`
      window.seen = [];
      new MutationObserver(() => {
        const text = document.querySelector('.progress-text')?.textContent ?? '';
        const src = document.querySelector('.live-frame img.frame')?.src ?? '';
        window.seen.push(text + ' | ' + src);
      }).observe(document.querySelector('.live-frame'), {
        subtree: true, childList: true, characterData: true, attributes: true,
      });
    `);
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await eventually(() => page.locator('.progress-text').textContent()).toMatch(/captured [3-7]\/7/);
    await shot(page, 'live-running');
    const caption = page.locator('.live-frame .caption');
    await eventually(() => caption.textContent(), 20_000).toMatch(/^Latest result: browser stack/);
    await eventually(() => page.locator('.message').filter({ hasText: 'finished' }).isVisible()).toBe(true);
    const frame = page.locator('.live-frame img.frame');
    await eventually(() => frame.getAttribute('src')).toMatch(/\/result\.jpg$/);
    // Taken first, so a failure below does not take the later tests (which open this job) with it.
    jobId = /\/api\/stacks\/([^/]+)\//.exec((await frame.getAttribute('src')) ?? '')?.[1] ?? '';
    expect(await frame.evaluate(naturalWidth)).toBe(320);
    const seen = (await page.evaluate('window.seen')) as string[];
    const captured = seen.map((s) => /captured (\d)\/7/.exec(s)?.[1]).filter(Boolean);
    expect(new Set(captured).size).toBeGreaterThanOrEqual(3);
    // The first frame while nothing is merged yet, then the stack as it grows (a depthmap job). On a
    // loaded machine the first capture's and the first merge's events can arrive together, and the
    // page then goes straight to the stack of one frame.
    expect(seen.some((s) => /\/frames\/0$/.test(s) || /\/preview\.jpg\?merged=1$/.test(s))).toBe(true);
    expect(seen.some((s) => /\/preview\.jpg\?merged=[1-7]$/.test(s))).toBe(true);
    expect((await api<{ status: string }>(`/api/stacks/${jobId}`)).status).toBe('done');
    await shot(page, 'live');
    await page.close();
  });

  it('lists the results and opens one: zoom, depth, before/after, downloads', async () => {
    // Two more jobs for the list: one done, one cancelled before its first frame.
    const around = await post('/api/stacks', { frames: 5, step: 20, label: 'five around 1000 µm' });
    await eventually(async () => (await api<{ status: string }>(`/api/stacks/${around.id}`)).status).toBe(
      'done',
    );
    const cancelled = await post('/api/stacks', {
      frames: 9,
      step: 10,
      settleMs: 5000,
      label: 'changed my mind',
    });
    expect(await statusOf(`/api/stacks/${cancelled.id}`, 'DELETE')).toBe(200);
    const page = await open('/#/jobs');
    await eventually(() => page.locator('a.card').count()).toBe(3);
    // Newest first.
    const order = await page
      .locator('a.card')
      .evaluateAll((cards) => cards.map((c) => c.getAttribute('data-job')));
    expect(order).toEqual([cancelled.id, around.id, jobId]);
    await eventually(() => page.locator(`a.card[data-job="${cancelled.id}"] .badge`).textContent()).toBe(
      'cancelled',
    );
    const card = page.locator(`a.card[data-job="${jobId}"]`);
    await eventually(() => card.textContent()).toContain('browser stack');
    await eventually(() => card.locator('.badge').textContent()).toBe('done');
    await shot(page, 'gallery');
    await card.click();
    await eventually(() => page.locator('.job-page h2').textContent()).toBe('browser stack');
    const image = page.locator('.zoom-stage img');
    await eventually(() => image.evaluate(naturalWidth)).toBe(320);
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await eventually(() => image.getAttribute('style')).toMatch(/scale\(1\.5\)/);
    await shot(page, 'job');

    await page.getByRole('tab', { name: 'Depth' }).click();
    await eventually(() => image.evaluate(naturalWidth)).toBe(320);
    expect(await image.getAttribute('src')).toMatch(/depth-preview\.png$/);

    await page.getByRole('tab', { name: 'Before/after' }).click();
    const frame = page.locator('.compare-box img').first();
    await eventually(() => frame.evaluate(naturalWidth)).toBe(320);
    await page.getByLabel('Frame', { exact: true }).fill('0');
    await eventually(() => frame.getAttribute('src')).toMatch(/\/frames\/0$/);
    await page.getByLabel('Split between frame and stack').fill('30');
    await eventually(() => page.locator('.compare-box img.after').getAttribute('style')).toMatch(
      /inset\(0px 0px 0px 30%\)/,
    );
    await shot(page, 'compare');

    // Every offered download answers; one that is missing says so instead of being a dead link.
    const links = page.locator('.downloads a');
    await eventually(() => page.locator('.downloads li', { hasText: 'checking' }).count()).toBe(0);
    const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(hrefs).toEqual(
      expect.arrayContaining([`/api/stacks/${jobId}/result.jpg`, `/api/stacks/${jobId}/depth.png`]),
    );
    for (const href of hrefs) expect(await statusOf(href!), href!).toBe(200);
    const depth = await (await fetch(`${daemon.url}/api/stacks/${jobId}/depth.png`)).arrayBuffer();
    expect((await sharp(Buffer.from(depth)).metadata()).depth).toBe('ushort');
    const meshAnswer = await statusOf(`/api/stacks/${jobId}/mesh.glb`, 'HEAD');
    if (meshAnswer !== 200)
      await eventually(() =>
        page.locator('.downloads .unavailable', { hasText: 'GLB' }).textContent(),
      ).toMatch(/not available/);
    await page.close();
  });

  /** Waits for the 3D view, checks its Z scale and that the canvas shows a surface; returns the caption. */
  async function checkSurface(page: Page): Promise<string> {
    const canvas = page.locator('canvas.viewer-canvas');
    await eventually(() => canvas.getAttribute('data-rendered'), 30_000).toBe('true');
    const legend = page.locator('.z-legend');
    // The stack spanned 940–1060 µm: the relief is within it, give or take the sub-frame
    // refinement at the ends and the mesh's smoothing (a few µm).
    const zRange = Number(/Z: ([\d.]+) µm/.exec((await legend.textContent()) ?? '')?.[1]);
    expect(zRange).toBeGreaterThan(60);
    expect(zRange).toBeLessThanOrEqual(125);
    expect(await legend.textContent()).toMatch(/ruler ticks every \d+ µm/);
    const png = await canvas.screenshot();
    const { channels } = await sharp(png).stats();
    // A blank canvas is one flat colour; the textured surface spreads every channel.
    expect(Math.max(...channels.slice(0, 3).map((c) => c.stdev))).toBeGreaterThan(15);
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    let painted = 0;
    for (let i = 0; i < data.length; i += info.channels)
      if (Math.abs(data[i] - 0x15) + Math.abs(data[i + 1] - 0x18) + Math.abs(data[i + 2] - 0x1d) > 24)
        painted++;
    expect(painted / (info.width * info.height)).toBeGreaterThan(0.1);
    return (await page.locator('.viewer3d .caption').textContent()) ?? '';
  }

  it("draws the daemon's textured mesh (GLB) on a non-blank canvas, with the Z scale in µm", async (context) => {
    // The mesh route (issue 8) may be missing from this daemon: the next test covers the page's own surface.
    if ((await statusOf(`/api/stacks/${jobId}/mesh.glb`, 'HEAD')) === 404) context.skip();
    const page = await open(`/#/jobs/${jobId}/3d`);
    expect(await checkSurface(page)).toContain('the daemon’s mesh (x, y and z in µm');
    await shot(page, '3d');
    await page.close();
  });

  it('without a mesh from the daemon, builds the surface from the 16-bit depth map itself', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // As a daemon without the mesh route answers.
    await page.route('**/mesh.glb', (route) =>
      route.fulfill({
        status: 404,
        contentType: 'application/json',
        body: '{"error":"NOT_FOUND","message":"no route"}',
      }),
    );
    await page.goto(`${daemon.url}/#/jobs/${jobId}/3d`);
    const caption = await checkSurface(page);
    expect(caption).toContain('the depth map, in the browser');
    // The 16-bit PNG was read as such: no "whole frames only" fallback.
    expect(caption).not.toContain('whole frames only');
    await shot(page, '3d-from-depth');
    await page.close();
  });

  it('restacks the job with other settings, then deletes the restack', async () => {
    const page = await open(`/#/jobs/${jobId}`);
    await page.locator('.restack select[name=method]').selectOption('pyramid');
    await page.locator('.restack input[name=label]').fill('pyramid restack');
    await page.getByRole('button', { name: 'Restack' }).click();
    await eventually(() => page.url()).not.toMatch(new RegExp(`${jobId}$`));
    const restackId = /#\/jobs\/([^/]+)/.exec(page.url())?.[1] ?? '';
    await eventually(() => page.locator('.job-page h2').textContent()).toBe('pyramid restack');
    await eventually(() => page.locator('.job-title .badge').textContent(), 20_000).toBe('done');
    await eventually(() => page.locator('.facts').textContent()).toContain(`Restack of${jobId}`);
    const remove = page.getByRole('button', { name: 'Delete this job' });
    await remove.click();
    await page.getByRole('button', { name: 'Really delete it?' }).click();
    await eventually(() => page.url()).toMatch(/#\/jobs$/);
    await eventually(() => page.locator(`a.card[data-job="${restackId}"]`).count()).toBe(0);
    expect(await statusOf(`/api/stacks/${restackId}`)).toBe(404);
    await page.close();
  });

  it('creates, pauses, resumes and deletes a schedule; its cron preview agrees with the daemon', async (context) => {
    if ((await statusOf('/api/schedules')) === 404) {
      // A daemon without the schedules API (issue 6): the page must say so.
      const page = await open('/#/schedules');
      await eventually(() => page.locator('.panel').textContent()).toContain(
        'Schedules are not available on this daemon',
      );
      await page.close();
      context.skip();
    }
    const page = await open('/#/schedules');
    await page.locator('input[name=name]').fill('mould');
    const cron = page.locator('input[name=cron]');
    // Six fields (seconds) are refused before anything is sent, as the daemon would.
    await cron.fill('0 */30 * * * *');
    await eventually(() => page.locator('.cron-preview .warning').textContent()).toContain(
      'expected 5 fields',
    );
    await cron.fill('*/30 * * * *');
    await eventually(() => page.locator('.cron-preview strong').textContent()).toBe(
      'every 30 minutes, every day',
    );
    const preview = page.locator('.cron-preview li');
    await eventually(() => preview.count()).toBe(5);
    await page.locator('.schedule-form input[name=start]').fill('940');
    await page.locator('.schedule-form input[name=end]').fill('1060');
    await page.locator('.schedule-form input[name=maxRuns]').fill('48');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    const row = page.locator('li.schedule', { hasText: 'mould' });
    await eventually(() => row.locator('.badge').textContent()).toBe('active');
    expect(await row.textContent()).toContain('0 run(s) of 48 runs');
    expect(await row.textContent()).toContain('Next: ');

    // The daemon (croner) plans the same times the form showed.
    const { schedules } = await api<{ schedules: { id: string; nextRuns: string[] }[] }>('/api/schedules');
    const shown = await preview.evaluateAll((items) => items.map((li) => li.getAttribute('data-at')));
    const planned = schedules[0].nextRuns.map((t) => new Date(t).toISOString());
    // A half-hour boundary may pass between the preview and the creation.
    expect(planned.slice(0, 4)).toEqual(shown[0] === planned[0] ? shown.slice(0, 4) : shown.slice(1, 5));

    await row.getByRole('button', { name: 'Timelapse' }).click();
    await eventually(() => row.locator('.timelapse').textContent()).toContain('No film yet');
    await shot(page, 'schedules');
    await row.getByRole('button', { name: 'Pause' }).click();
    await eventually(() => row.locator('.badge').textContent()).toBe('paused');
    await row.getByRole('button', { name: 'Resume' }).click();
    await eventually(() => row.locator('.badge').textContent()).toBe('active');
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.getByRole('button', { name: 'Really delete?' }).click();
    await eventually(() => page.locator('li.schedule', { hasText: 'mould' }).count()).toBe(0);
    expect((await api<{ schedules: unknown[] }>('/api/schedules')).schedules).toEqual([]);
    await page.close();
  });

  it('shows API errors as messages in the page, not as alerts', async () => {
    const page = await open('/');
    await eventually(() => page.locator('.stage .position').textContent()).not.toBe('–');
    await page.locator('input[name=goto]').fill('5000');
    await page.getByRole('button', { name: 'Go', exact: true }).click();
    const limit = page.locator('.message.error', { hasText: 'STAGE_LIMIT' });
    await eventually(() => limit.count()).toBe(1);
    expect(await limit.textContent()).toContain('5000');
    // A form the page checks itself fails the same way.
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const missing = page.locator('.message.error', { hasText: 'Set the start and the end first' });
    await eventually(() => missing.count()).toBe(1);
    await shot(page, 'error-message');
    await limit.getByRole('button', { name: 'Dismiss' }).click();
    await eventually(() => limit.count()).toBe(0);
    await page.close();
  });

  it('fits a phone screen: one column, no sideways scrolling', async () => {
    const phone = { width: 390, height: 844 };
    for (const [path, name] of [
      ['/', 'phone-live'],
      [`/#/jobs/${jobId}`, 'phone-job'],
    ]) {
      const page = await open(path, true);
      await eventually(() => page.locator('.stage, .job-page h2').first().isVisible()).toBe(true);
      await page.waitForLoadState('networkidle');
      const width = await page.evaluate('document.documentElement.scrollWidth');
      expect(width).toBeLessThanOrEqual(phone.width);
      if (name === 'phone-live') {
        // One column: the picture above the stage panel, both the screen's width.
        const picture = await page.locator('.live-frame').boundingBox();
        const stage = await page.locator('.stage').boundingBox();
        expect(stage!.y).toBeGreaterThanOrEqual(picture!.y + picture!.height);
        expect(Math.abs(stage!.width - picture!.width)).toBeLessThan(2);
      }
      await shot(page, name);
      await page.close();
    }
  });
});

describe.skipIf(!existsSync(CHROMIUM))('the web page, on a daemon that requires a token', () => {
  it('asks for the token on the first changing request, then sends it', async () => {
    const token = 'correct-horse-battery-staple';
    // 127.0.0.2 is loopback to the kernel but not to the daemon's auth check: the token is required.
    const daemon = await startUiDaemon({ host: '127.0.0.2', token });
    const browser = await chromium.launch({ executablePath: CHROMIUM });
    try {
      const page = await browser.newPage();
      await page.goto(`${daemon.url}/`);
      const shown = page.locator('.stage .position');
      await eventually(() => shown.textContent()).not.toBe('–');
      const before = await shown.textContent();
      await page.getByRole('button', { name: 'Up, fine (↑)' }).click();
      const dialog = page.locator('#token-dialog');
      await eventually(() => dialog.isVisible()).toBe(true);
      await eventually(() => dialog.locator('.reason').textContent()).toContain('Bearer');
      await page.locator('#token-dialog input[name=token]').fill(token);
      await page.getByRole('button', { name: 'Save' }).click();
      await eventually(() => dialog.isVisible()).toBe(false);
      await eventually(() => shown.textContent()).not.toBe(before ?? '');
      await eventually(() => page.locator('#token-button').textContent()).toBe('Token ✓');
    } finally {
      await browser.close();
      await daemon.close();
    }
  });
});
