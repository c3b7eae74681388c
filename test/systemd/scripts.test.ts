// systemd/install.sh and uninstall.sh, run into a temporary root (--prefix / STACKSCOPE_ROOT) that fakes
// a Raspberry Pi: what a dry run says it would write (and that it writes nothing), what a real run writes,
// that a second run keeps the configuration, the pigpio drop-in following --pigpio, and shellcheck.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';

const repo = new URL('../../', import.meta.url).pathname;
const install = join(repo, 'systemd/install.sh');
const uninstall = join(repo, 'systemd/uninstall.sh');
const unitSource = readFileSync(join(repo, 'systemd/stackscope.service'), 'utf8');
const dropinSource = readFileSync(join(repo, 'systemd/stackscope-pigpio.conf'), 'utf8');
const preset = (name: string) =>
  JSON.parse(readFileSync(join(repo, `hardware/presets/${name}.json`), 'utf8')) as Record<string, unknown>;

// Removed at the end, not after each test: the tests run side by side.
const roots: string[] = [];
afterAll(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A temporary root that looks like Raspberry Pi OS on the given board. */
function fakePi(model = 'Raspberry Pi 4 Model B Rev 1.5', codename = 'bookworm'): string {
  const root = mkdtempSync(join(tmpdir(), 'stackscope-install-'));
  roots.push(root);
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/os-release'), `ID=debian\nVERSION_CODENAME=${codename}\n`);
  mkdirSync(join(root, 'proc/device-tree'), { recursive: true });
  writeFileSync(join(root, 'proc/device-tree/model'), `${model}\0`);
  return root;
}

function files(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length))
    .filter((path) => !path.startsWith('/opt/stackscope/'))
    .sort();
}

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a script with bash; asynchronous so the test cases (each in its own root) run side by side. */
function run(script: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { env: { ...process.env, STACKSCOPE_ROOT: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The configuration a dry run prints between its `----- PATH` and `-----` lines. */
function printedConfig(stdout: string): Record<string, unknown> {
  const match = /^----- .*config\.json\n([\s\S]*?)\n-----$/m.exec(stdout);
  if (!match) throw new Error(`no configuration in the dry run's output:\n${stdout}`);
  return JSON.parse(match[1]) as Record<string, unknown>;
}

describe.concurrent('install.sh --dry-run', () => {
  it('lists the files it would write, prints the configuration, and writes nothing', async () => {
    const root = fakePi();
    const before = files(root);
    const { status, stdout, stderr } = await run(install, [
      '--dry-run',
      '--prefix',
      root,
      '--preset',
      'a4988',
    ]);
    expect(stderr).not.toMatch(/Raspberry Pi OS|no Raspberry Pi/);
    expect(status).toBe(0);
    expect(stdout).toContain('Raspberry Pi 4 Model B Rev 1.5');
    expect(stdout).toContain(`would write ${root}/etc/stackscope/config.json (mode 0640)`);
    expect(stdout).toContain(`would write ${root}/etc/systemd/system/stackscope.service (mode 0644)`);
    expect(stdout).not.toContain('pigpio.conf');
    expect(stdout).toMatch(/skipped \(--prefix\): apt-get install .*rpicam-apps/);
    expect(stdout).toContain('skipped (--prefix): systemctl enable stackscope.service');
    const config = printedConfig(stdout);
    expect(config.rig).toEqual(preset('a4988'));
    expect(config.dataDir).toBe('/var/lib/stackscope');
    expect((config.server as { token: string }).token).toMatch(/^[0-9a-f]{32}$/);
    expect(parseConfig(config).server.port).toBe(8080);
    expect(files(root)).toEqual(before);
  });

  it('adds the pigpio drop-in and package with --pigpio on a Pi 4 with Bookworm', async () => {
    const root = fakePi();
    const { status, stdout } = await run(install, ['-n', '--preset', 'drv8825', '--pigpio', '--no-token'], {
      STACKSCOPE_ROOT: root,
    });
    expect(status).toBe(0);
    expect(stdout).toContain(`would write ${root}/etc/systemd/system/stackscope.service.d/pigpio.conf`);
    expect(stdout).toMatch(/apt-get install .*pigpio/);
    expect(printedConfig(stdout).server).toEqual({ port: 8080 });
  });

  it('refuses --pigpio on a Pi 5 and on Trixie, saying why', async () => {
    const pi5 = await run(install, [
      '-n',
      '--prefix',
      fakePi('Raspberry Pi 5 Model B Rev 1.0'),
      '--preset',
      'a4988',
      '--pigpio',
    ]);
    expect(pi5.status).toBe(1);
    expect(pi5.stderr).toContain('pigpio does not support the Pi 5');
    const trixie = await run(install, [
      '-n',
      '--prefix',
      fakePi(undefined, 'trixie'),
      '--preset',
      'a4988',
      '--pigpio',
    ]);
    expect(trixie.status).toBe(1);
    expect(trixie.stderr).toContain('exists for Bookworm, not for trixie');
  });

  it('asks for a preset when there is no configuration yet, and checks its flags', async () => {
    const root = fakePi();
    const none = await run(install, ['-n', '--prefix', root]);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('--preset (a4988 drv8825 tmc2209 uln2003-28byj48 simulated)');
    expect((await run(install, ['-n', '--prefix', root, '--preset', 'l298n'])).stderr).toContain(
      "--preset: expected one of a4988 drv8825 tmc2209 uln2003-28byj48 simulated, got 'l298n'",
    );
    expect(
      (await run(install, ['-n', '--prefix', root, '--preset', 'a4988', '--port', '0'])).stderr,
    ).toContain("--port: expected 1-65535, got '0'");
    const oldNode = join(root, 'old-node');
    mkdirSync(oldNode);
    writeFileSync(join(oldNode, 'node'), '#!/bin/sh\nprintf 18.19.0\nexit 1\n', { mode: 0o755 });
    const old = await run(install, ['-n', '--prefix', root, '--preset', 'a4988'], {
      PATH: `${oldNode}:${process.env.PATH}`,
    });
    expect(old.status).toBe(1);
    expect(old.stderr).toContain('Node 18.19.0 is too old (stackscope needs >= 20.19)');
    expect(old.stderr).toContain('deb.nodesource.com/setup_22.x');
    const unknown = await run(install, ['--frobnicate']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("unknown option '--frobnicate'");
  });
});

describe.concurrent('install.sh into a prefix', () => {
  it('writes the configuration, the unit and the app; a second run keeps the configuration', async () => {
    const root = fakePi();
    const first = await run(install, ['--prefix', root, '--preset', 'uln2003-28byj48', '--port', '9090']);
    expect(first.status).toBe(0);
    expect(files(root)).toEqual([
      '/etc/os-release',
      '/etc/stackscope/config.json',
      '/etc/systemd/system/stackscope.service',
      '/proc/device-tree/model',
    ]);
    const configPath = join(root, 'etc/stackscope/config.json');
    const written = readFileSync(configPath, 'utf8');
    const config = parseConfig(JSON.parse(written), configPath);
    expect(config.server.port).toBe(9090);
    expect(config.rig.stage.driver.type).toBe('uln2003');
    expect(statSync(configPath).mode & 0o777).toBe(0o640);
    expect(readFileSync(join(root, 'etc/systemd/system/stackscope.service'), 'utf8')).toBe(unitSource);
    expect(existsSync(join(root, 'opt/stackscope/package.json'))).toBe(true);
    expect(existsSync(join(root, 'opt/stackscope/node_modules'))).toBe(false);
    expect(existsSync(join(root, 'opt/stackscope.new'))).toBe(false);

    const second = await run(install, ['--prefix', root, '--preset', 'a4988', '--pigpio']);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('keeping the existing');
    expect(second.stdout).toMatch(/stackscope: +http:\/\/\S+:9090\//);
    expect(readFileSync(configPath, 'utf8')).toBe(written);
    const dropin = join(root, 'etc/systemd/system/stackscope.service.d/pigpio.conf');
    expect(readFileSync(dropin, 'utf8')).toBe(dropinSource);

    const third = await run(install, ['--prefix', root]);
    expect(third.status).toBe(0);
    expect(existsSync(dropin)).toBe(false);
    expect(third.stdout).toContain('runs unprivileged with onoff');
  });
});

describe.concurrent('uninstall.sh into a prefix', () => {
  it('removes the unit and the app, keeps configuration and data unless --purge', async () => {
    const root = fakePi();
    expect((await run(install, ['--prefix', root, '--preset', 'tmc2209', '--pigpio'])).status).toBe(0);
    mkdirSync(join(root, 'var/lib/stackscope/jobs'), { recursive: true });

    const dry = await run(uninstall, ['--dry-run', '--prefix', root]);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain(`would remove ${root}/etc/systemd/system/stackscope.service`);
    expect(existsSync(join(root, 'etc/systemd/system/stackscope.service'))).toBe(true);

    expect((await run(uninstall, ['--prefix', root])).status).toBe(0);
    expect(files(root)).toEqual([
      '/etc/os-release',
      '/etc/stackscope/config.json',
      '/proc/device-tree/model',
    ]);
    expect(existsSync(join(root, 'opt/stackscope'))).toBe(false);
    expect(existsSync(join(root, 'var/lib/stackscope/jobs'))).toBe(true);

    expect((await run(uninstall, ['--prefix', root, '--purge'])).status).toBe(0);
    expect(existsSync(join(root, 'etc/stackscope'))).toBe(false);
    expect(existsSync(join(root, 'var/lib/stackscope'))).toBe(false);
  });
});

const hasSystemdAnalyze = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;

describe.skipIf(!hasSystemdAnalyze)('the unit and its pigpio drop-in', { concurrent: true }, () => {
  /** The unit in a folder of its own (ExecStart on this machine's node), with the drop-in if asked. */
  function unitDir(withDropin: boolean): string {
    const dir = mkdtempSync(join(tmpdir(), 'stackscope-unit-'));
    roots.push(dir);
    writeFileSync(
      join(dir, 'stackscope.service'),
      unitSource.replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `),
    );
    if (withDropin) {
      mkdirSync(join(dir, 'stackscope.service.d'));
      writeFileSync(join(dir, 'stackscope.service.d/pigpio.conf'), dropinSource);
    }
    return dir;
  }

  /** systemd-analyze on the unit; SYSTEMD_UNIT_PATH makes it read the drop-in beside it. */
  const analyze = (dir: string, args: string[]) =>
    run('-c', ['systemd-analyze "$@"', 'systemd-analyze', ...args, join(dir, 'stackscope.service')], {
      SYSTEMD_UNIT_PATH: `${dir}:`,
    });

  it('passes systemd-analyze verify without a warning, alone and with the drop-in', async () => {
    for (const withDropin of [false, true]) {
      const result = await analyze(unitDir(withDropin), ['verify']);
      expect({ withDropin, stderr: result.stderr, status: result.status }).toEqual({
        withDropin,
        stderr: '',
        status: 0,
      });
    }
  });

  it('keeps its exposure (systemd-analyze security) at most 2.0, 3.0 as root with pigpio', async () => {
    const unprivileged = await analyze(unitDir(false), ['security', '--offline=true', '--threshold=20']);
    expect(unprivileged.stdout).toMatch(/Service runs under a static non-root user identity/);
    expect(unprivileged.status).toBe(0);
    const root = await analyze(unitDir(true), ['security', '--offline=true', '--threshold=30']);
    expect(root.stdout).toMatch(/Service runs as root user/);
    expect(root.status).toBe(0);
  });
});

const hasShellcheck = spawnSync('sh', ['-c', 'command -v shellcheck']).status === 0;

describe.concurrent('the scripts as shell', () => {
  it('parse with bash -n', async () => {
    for (const script of [install, uninstall]) expect(spawnSync('bash', ['-n', script]).status).toBe(0);
  });

  it.skipIf(!hasShellcheck)('pass shellcheck', async () => {
    const result = await run('-c', ['shellcheck "$1" "$2"', 'shellcheck', install, uninstall]);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
});
