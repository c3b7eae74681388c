import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

async function configFile(content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stackscope-config-'));
  const path = join(dir, 'config.json');
  await writeFile(path, content);
  return path;
}

describe('loadConfig', () => {
  it('gives every value a default, and freezes the result', async () => {
    const config = await loadConfig({ env: {} });
    expect(config.rig.type).toBe('auto');
    expect(config.rig.stage.settleMs).toBe(300);
    expect(config.server.port).toBe(8080);
    expect(Object.isFrozen(config.rig.stage)).toBe(true);
  });

  it('layers file, environment and flags in that order', async () => {
    const file = await configFile(
      JSON.stringify({ server: { port: 9000 }, rig: { stage: { maxUm: 1500, settleMs: 100 } } }),
    );
    const config = await loadConfig({
      file,
      env: { STACKSCOPE__rig__stage__settleMs: '250', STACKSCOPE__rig__type: 'simulated' },
      overrides: { server: { port: 9100 } },
    });
    expect(config.rig.stage.maxUm).toBe(1500);
    expect(config.rig.stage.settleMs).toBe(250);
    expect(config.rig.type).toBe('simulated');
    expect(config.server.port).toBe(9100);
  });

  it('names the bad key, the rule and the value', async () => {
    const file = await configFile(JSON.stringify({ rig: { stage: { settleMs: -5 } } }));
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/rig\.stage\.settleMs: .*>=0.* \(got -5\)/),
    });
  });

  it('never prints a secret: a bad token is named, not shown', async () => {
    const error = await loadConfig({ env: {}, overrides: { server: { token: 'short-secret' } } }).catch(
      (e: unknown) => e,
    );
    expect(String((error as Error).message)).toMatch(/server\.token: .*value not shown/);
    expect(String((error as Error).message)).not.toContain('short-secret');
  });

  it('refuses unknown keys (a typo must not be ignored silently)', async () => {
    const file = await configFile(JSON.stringify({ rig: { stage: { setleMs: 100 } } }));
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('setleMs'),
    });
  });

  it('reports a file that is not JSON, or missing, with its path', async () => {
    const file = await configFile('{ "rig": ');
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining(`${file}: not valid JSON`),
    });
    await expect(loadConfig({ file: '/nonexistent/stackscope.json', env: {} })).rejects.toMatchObject({
      message: expect.stringContaining('/nonexistent/stackscope.json: cannot read the config file (ENOENT)'),
    });
  });

  it('checks relations between values: maxUm above minUm', async () => {
    await expect(
      loadConfig({ env: {}, overrides: { rig: { stage: { minUm: 100, maxUm: 50 } } } }),
    ).rejects.toMatchObject({
      message: expect.stringContaining('rig.stage.maxUm: maxUm must be greater than minUm'),
    });
  });
});
