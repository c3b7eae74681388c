// Checks rpicam-still's command lines per mode against the traps in HARDWARE-NOTES.md: -t 0 with -s/-k,
// never --immediate with them, the metadata completion signal, locking options, and unsafe output paths.
import { describe, expect, it } from 'vitest';
import { cameraSchema, type CameraConfig } from '../../../src/config/schema.js';
import {
  buildRpicamArgs,
  frameFile,
  lockingArgs,
  METER_PREVIEW_MS,
  needsMetering,
  outputPattern,
  resolveSettings,
  type ProcessRole,
} from '../../../src/rig/camera/arguments.js';
import type { CaptureSettings } from '../../../src/rig/types.js';

const LOCKED: CaptureSettings = {
  encoding: 'jpg',
  quality: 90,
  denoise: 'cdn_off',
  shutterUs: 12500,
  analogueGain: 1.5,
  awbGains: [1.8, 2.1],
};

function config(overrides: Partial<CameraConfig> = {}): CameraConfig {
  return cameraSchema.parse({ width: 2028, height: 1520, ...overrides });
}

function args(role: ProcessRole, cfg: CameraConfig, settings: CaptureSettings = LOCKED, frameStart = 7) {
  return buildRpicamArgs({
    config: cfg,
    settings: resolveSettings(cfg, settings),
    role,
    outputDir: '/data/w',
    frameStart,
  });
}

/** The value after `option`, or undefined when the option is absent. */
function valueOf(argv: string[], option: string): string | undefined {
  const i = argv.indexOf(option);
  return i < 0 ? undefined : argv[i + 1];
}

describe('session processes (signal and keypress)', () => {
  it('signal mode keeps one process: -t 0 -s, numbered output, --zsl for JPEG, no --immediate', () => {
    const argv = args('session', config({ mode: 'signal' }));
    expect(valueOf(argv, '-t')).toBe('0');
    expect(argv).toContain('-s');
    expect(argv).not.toContain('-k');
    expect(argv).toContain('-n');
    expect(argv).toContain('--zsl');
    expect(argv).not.toContain('--immediate');
    expect(valueOf(argv, '-o')).toBe('/data/w/frame_%04d.jpg');
    expect(valueOf(argv, '--framestart')).toBe('7');
    expect(valueOf(argv, '--metadata')).toBe('-');
    expect(valueOf(argv, '--metadata-format')).toBe('txt');
    expect(argv).not.toContain('--datetime');
    expect(argv).not.toContain('--timestamp');
  });

  it('keypress mode uses -t 0 -k', () => {
    const argv = args('session', config({ mode: 'keypress' }));
    expect(valueOf(argv, '-t')).toBe('0');
    expect(argv).toContain('-k');
    expect(argv).not.toContain('-s');
    expect(argv).not.toContain('--immediate');
  });

  it('leaves --zsl out for PNG (before rpicam-apps 1.13 it works only with JPEG)', () => {
    const argv = args('session', config({ mode: 'signal' }), { ...LOCKED, encoding: 'png' });
    expect(argv).not.toContain('--zsl');
    expect(valueOf(argv, '-e')).toBe('png');
    expect(valueOf(argv, '-o')).toBe('/data/w/frame_%04d.png');
  });

  it('never combines --immediate with -s or -k, whatever the configuration', () => {
    for (const mode of ['signal', 'keypress'] as const) {
      for (const immediate of [true, false]) {
        for (const encoding of ['jpg', 'png'] as const) {
          const argv = args('session', config({ mode, immediate }), { ...LOCKED, encoding });
          expect(argv).not.toContain('--immediate');
          expect(valueOf(argv, '-t')).toBe('0');
        }
      }
    }
  });

  it('refuses a session process when the mode is per-frame', () => {
    expect(() => args('session', config({ mode: 'per-frame' }))).toThrow(/per-frame/);
  });
});

describe('one-shot processes', () => {
  it('per-frame mode shoots with --immediate when configured, without -s, -k or -t 0', () => {
    const argv = args('frame', config({ mode: 'per-frame', immediate: true }));
    expect(argv).toContain('--immediate');
    for (const flag of ['-s', '-k', '-t']) expect(argv).not.toContain(flag);
    expect(valueOf(argv, '-o')).toBe('/data/w/frame_%04d.jpg');
    expect(valueOf(argv, '--framestart')).toBe('7');
  });

  it('per-frame mode without immediate lets the preview run first', () => {
    expect(args('frame', config({ mode: 'per-frame', immediate: false }))).not.toContain('--immediate');
  });

  it('the metering shot previews for a while with auto exposure and no trigger', () => {
    const argv = args('meter', config(), { encoding: 'jpg', quality: 90, denoise: 'cdn_off' });
    expect(valueOf(argv, '-t')).toBe(String(METER_PREVIEW_MS));
    for (const flag of ['-s', '-k', '--immediate', '--shutter', '--gain', '--awbgains']) {
      expect(argv).not.toContain(flag);
    }
    expect(valueOf(argv, '--metadata')).toBe('-');
  });

  it('a partly fixed metering shot keeps what was fixed', () => {
    const argv = args('meter', config(), { encoding: 'jpg', quality: 90, denoise: 'off', shutterUs: 5000 });
    expect(valueOf(argv, '--shutter')).toBe('5000');
    expect(argv).not.toContain('--gain');
  });
});

describe('image and locking options', () => {
  it('passes encoding, quality, size, no thumbnail and the locked exposure', () => {
    const argv = args('session', config(), { ...LOCKED, lensPosition: 4.5, denoise: 'cdn_hq' });
    expect(valueOf(argv, '-e')).toBe('jpg');
    expect(valueOf(argv, '-q')).toBe('90');
    expect(valueOf(argv, '--width')).toBe('2028');
    expect(valueOf(argv, '--height')).toBe('1520');
    expect(valueOf(argv, '--thumb')).toBe('none');
    expect(valueOf(argv, '--shutter')).toBe('12500');
    expect(valueOf(argv, '--gain')).toBe('1.5');
    expect(valueOf(argv, '--awbgains')).toBe('1.8,2.1');
    expect(valueOf(argv, '--denoise')).toBe('cdn_hq');
    expect(valueOf(argv, '--autofocus-mode')).toBe('manual');
    expect(valueOf(argv, '--lens-position')).toBe('4.5');
  });

  it('rounds the shutter to whole µs and leaves the lens alone when no position is given', () => {
    const argv = lockingArgs({ ...LOCKED, shutterUs: 9999.6 });
    expect(argv.slice(0, 2)).toEqual(['--shutter', '10000']);
    expect(argv).not.toContain('--autofocus-mode');
  });

  it('omits --width/--height when neither the settings nor the config give them', () => {
    const argv = args('session', cameraSchema.parse({}));
    expect(argv).not.toContain('--width');
    expect(argv).not.toContain('--height');
  });

  it('appends extraArgs last, and does not repeat --zsl given there', () => {
    const argv = args('session', config({ extraArgs: ['--zsl', '--tuning-file', '/x.json'] }));
    expect(argv.slice(-3)).toEqual(['--zsl', '--tuning-file', '/x.json']);
    expect(argv.filter((a) => a === '--zsl')).toHaveLength(1);
  });

  it('refuses extraArgs that would fight the driver, naming the config key to use', () => {
    expect(() => args('session', config({ extraArgs: ['--immediate'] }))).toThrow(/immediate/);
    expect(() => args('session', config({ extraArgs: ['-t', '5000'] }))).toThrow(/"-t"/);
    expect(() => args('frame', config({ extraArgs: ['--shutter=100'] }))).toThrow(/camera\.shutterUs/);
    expect(() => args('session', config({ extraArgs: ['--datetime'] }))).toThrow(/1 s resolution/);
  });
});

describe('settings and output names', () => {
  it('takes the stack settings first and the config for what they leave out', () => {
    const cfg = config({ shutterUs: 800, analogueGain: 2, awbGains: [1, 1], lensPosition: 3 });
    const merged = resolveSettings(cfg, { ...LOCKED, shutterUs: undefined, width: 640 });
    expect(merged).toMatchObject({
      shutterUs: 800,
      analogueGain: 1.5,
      awbGains: [1.8, 2.1],
      lensPosition: 3,
    });
    expect(merged.width).toBe(640);
    expect(merged.height).toBe(1520);
  });

  it('meters when any of shutter, gain or white balance is left to the camera', () => {
    expect(needsMetering(LOCKED)).toBe(false);
    expect(needsMetering({ ...LOCKED, shutterUs: undefined })).toBe(true);
    expect(needsMetering({ ...LOCKED, analogueGain: undefined })).toBe(true);
    expect(needsMetering({ ...LOCKED, awbGains: undefined })).toBe(true);
  });

  it('names frames as printf("%04d") does', () => {
    expect(outputPattern('/a/b/', 'png')).toBe('/a/b/frame_%04d.png');
    expect(frameFile('/a/b', 'jpg', 3)).toBe('/a/b/frame_0003.jpg');
    expect(frameFile('/a/b', 'jpg', 12345)).toBe('/a/b/frame_12345.jpg');
  });

  it('refuses an output folder with a literal %', () => {
    const request = { config: config(), settings: LOCKED, role: 'session' as const, frameStart: 0 };
    expect(() => buildRpicamArgs({ ...request, outputDir: '/data/100%/w' })).toThrow(
      expect.objectContaining({
        code: 'BAD_ARGUMENT',
        message: expect.stringMatching(/contains '%'.*printf/),
      }),
    );
  });

  it('refuses an output folder that makes names longer than rpicam-still keeps', () => {
    const request = { config: config(), settings: LOCKED, role: 'session' as const, frameStart: 0 };
    expect(() => buildRpicamArgs({ ...request, outputDir: '/' + 'd'.repeat(120) })).toThrow(
      expect.objectContaining({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/127/) }),
    );
  });
});
