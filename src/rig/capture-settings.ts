// The settings a camera session runs with: the configured camera, with a request's overrides (a job's
// encoding or fixed exposure, the preview's quality). Jobs, the preview route and `stackscope capture` share it.
import type { CameraConfig } from '../config/schema.js';
import type { CaptureSettings } from './types.js';

export type CameraOverrides = Partial<
  Pick<CaptureSettings, 'encoding' | 'quality' | 'shutterUs' | 'analogueGain' | 'awbGains' | 'lensPosition'>
>;

export function captureSettingsOf(camera: CameraConfig, overrides: CameraOverrides = {}): CaptureSettings {
  return {
    encoding: overrides.encoding ?? camera.encoding,
    quality: overrides.quality ?? camera.quality,
    width: camera.width,
    height: camera.height,
    shutterUs: overrides.shutterUs ?? camera.shutterUs,
    analogueGain: overrides.analogueGain ?? camera.analogueGain,
    awbGains: overrides.awbGains ?? camera.awbGains,
    lensPosition: overrides.lensPosition ?? camera.lensPosition,
    denoise: camera.denoise,
  };
}
