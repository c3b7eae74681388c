// Builds rpicam-still's command line for each way stackscope runs it (a long-lived signal or keypress
// process, one process per frame, a metering shot), following the traps in HARDWARE-NOTES.md.
import type { CameraConfig } from '../../config/schema.js';
import { BadArgumentError } from '../../errors.js';
import type { CaptureSettings } from '../types.js';

/**
 * What one process is for: `session` stays alive and shoots on each trigger (config.mode signal or
 * keypress); `frame` shoots once and exits (per-frame mode); `meter` previews with auto exposure,
 * shoots once and exits, so the stack can be locked to what it measured.
 */
export type ProcessRole = 'session' | 'frame' | 'meter';

export interface ArgumentRequest {
  config: CameraConfig;
  /** The stack's settings, already merged with the config (resolveSettings). */
  settings: CaptureSettings;
  role: ProcessRole;
  /** Folder the numbered frames are written to (no '%': it is a printf format). */
  outputDir: string;
  /** Number of the process's first frame (--framestart). */
  frameStart: number;
}

/** How long a metering shot previews before it captures, so auto exposure and white balance settle, ms. */
export const METER_PREVIEW_MS = 1500;

/**
 * rpicam-still formats the output name into a char[128] (generate_filename): a longer path is cut
 * off silently, so stackscope refuses it instead.
 */
export const MAX_OUTPUT_PATH_CHARS = 127;

/** Options stackscope sets itself: given again in extraArgs they would conflict (boost refuses repeats). */
const RESERVED_OPTIONS: Record<string, string> = {
  '-o': 'the driver names the frames',
  '--output': 'the driver names the frames',
  '-t': 'the driver picks the timeout per mode',
  '--timeout': 'the driver picks the timeout per mode',
  '-s': 'set camera.mode',
  '--signal': 'set camera.mode',
  '-k': 'set camera.mode',
  '--keypress': 'set camera.mode',
  '--immediate': 'set camera.immediate (per-frame mode only: with -s/-k it shoots once and exits)',
  '--framestart': 'the driver numbers the frames',
  '--wrap': 'the driver numbers the frames',
  '--datetime': 'names have 1 s resolution: two shots in one second overwrite each other',
  '--timestamp': 'names have 1 s resolution: two shots in one second overwrite each other',
  '--metadata': 'the metadata on stdout is how the driver knows a frame is saved',
  '--metadata-format': 'the metadata on stdout is how the driver knows a frame is saved',
  '-e': 'set camera.encoding',
  '--encoding': 'set camera.encoding',
  '-q': 'set camera.quality',
  '--quality': 'set camera.quality',
  '--shutter': 'set camera.shutterUs',
  '--gain': 'set camera.analogueGain',
  '--analoggain': 'set camera.analogueGain',
  '--awbgains': 'set camera.awbGains',
  '--denoise': 'set camera.denoise',
  '--lens-position': 'set camera.lensPosition',
  '--width': 'set camera.width',
  '--height': 'set camera.height',
};

/** The stack's settings: what open() was given, falling back to the camera's configuration. */
export function resolveSettings(config: CameraConfig, settings: CaptureSettings): CaptureSettings {
  return {
    ...settings,
    width: settings.width ?? config.width,
    height: settings.height ?? config.height,
    shutterUs: settings.shutterUs ?? config.shutterUs,
    analogueGain: settings.analogueGain ?? config.analogueGain,
    awbGains: settings.awbGains ?? config.awbGains,
    lensPosition: settings.lensPosition ?? config.lensPosition,
  };
}

/** True when exposure, gain or white balance is left to the camera and must be metered before the stack. */
export function needsMetering(settings: CaptureSettings): boolean {
  return settings.shutterUs === undefined || settings.analogueGain === undefined || !settings.awbGains;
}

/** The printf pattern rpicam-still fills with the frame counter. */
export function outputPattern(outputDir: string, encoding: CaptureSettings['encoding']): string {
  return `${outputDir.replace(/\/+$/, '')}/frame_%04d.${encoding}`;
}

/** The file rpicam-still writes for frame `number` (what `%04d` makes of it). */
export function frameFile(outputDir: string, encoding: CaptureSettings['encoding'], number: number): string {
  return outputPattern(outputDir, encoding).replace('%04d', String(number).padStart(4, '0'));
}

/** The options that hold exposure, gain, white balance, noise reduction and the lens still. */
export function lockingArgs(settings: CaptureSettings): string[] {
  const args: string[] = [];
  if (settings.shutterUs !== undefined) args.push('--shutter', String(Math.round(settings.shutterUs)));
  if (settings.analogueGain !== undefined) args.push('--gain', String(settings.analogueGain));
  if (settings.awbGains) args.push('--awbgains', `${settings.awbGains[0]},${settings.awbGains[1]}`);
  args.push('--denoise', settings.denoise);
  if (settings.lensPosition !== undefined) {
    // Camera Module 3 otherwise runs continuous autofocus, and the lens hunts while the stage moves.
    args.push('--autofocus-mode', 'manual', '--lens-position', String(settings.lensPosition));
  }
  return args;
}

/** rpicam-still's argv (without the program name) for one process. */
export function buildRpicamArgs(request: ArgumentRequest): string[] {
  const { config, settings, role, outputDir, frameStart } = request;
  checkOutputDir(outputDir, settings.encoding, frameStart);
  checkExtraArgs(config.extraArgs);
  if (role === 'session' && config.mode === 'per-frame') {
    throw new BadArgumentError(
      'camera.mode is "per-frame", but a long-lived session process was asked for: expected mode signal or keypress',
    );
  }

  const args = ['-n'];
  if (role === 'session') {
    // -t 0: with the default 5 s timeout a signal/keypress process quits without capturing.
    args.push('-t', '0', config.mode === 'keypress' ? '-k' : '-s');
    // --zsl keeps one camera configuration (no mode switch per shot); before v1.13 only with JPEG.
    if (settings.encoding === 'jpg' && !config.extraArgs.includes('--zsl')) args.push('--zsl');
  } else if (role === 'frame') {
    if (config.immediate) args.push('--immediate');
  } else {
    // No --immediate: the preview runs so auto exposure and white balance converge before the shot.
    args.push('-t', String(METER_PREVIEW_MS));
  }
  args.push('-o', outputPattern(outputDir, settings.encoding), '--framestart', String(frameStart));
  args.push('-e', settings.encoding, '-q', String(settings.quality));
  if (settings.width !== undefined) args.push('--width', String(settings.width));
  if (settings.height !== undefined) args.push('--height', String(settings.height));
  args.push('--thumb', 'none');
  args.push(...lockingArgs(settings));
  // Printed after the files are saved: the driver's completion signal.
  args.push('--metadata', '-', '--metadata-format', 'txt');
  args.push(...config.extraArgs);
  return args;
}

function checkOutputDir(outputDir: string, encoding: CaptureSettings['encoding'], frameStart: number): void {
  if (outputDir.includes('%')) {
    throw new BadArgumentError(
      `camera work folder "${outputDir}" contains '%': rpicam-still reads its output name as a printf ` +
        'format, so the frames would be misnamed; expected a path without %',
    );
  }
  const longest = frameFile(outputDir, encoding, Math.max(frameStart, 9999));
  if (longest.length > MAX_OUTPUT_PATH_CHARS) {
    throw new BadArgumentError(
      `camera work folder "${outputDir}" makes frame names ${longest.length} characters long: ` +
        `rpicam-still cuts them at ${MAX_OUTPUT_PATH_CHARS}; expected a shorter path`,
    );
  }
}

function checkExtraArgs(extraArgs: readonly string[]): void {
  for (const arg of extraArgs) {
    const name = arg.startsWith('--') ? arg.split('=')[0] : arg;
    const reason = RESERVED_OPTIONS[name];
    if (reason) {
      throw new BadArgumentError(
        `camera.extraArgs contains "${arg}", which stackscope sets itself (${reason}); expected other options`,
      );
    }
  }
}
