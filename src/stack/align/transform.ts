// Per-frame geometric transform to the reference frame. Alignment (phase correlation, similarity
// estimation, resampling) fills these in; until then every frame is taken as it is: identity.

export interface FrameTransform {
  /** Translation in pixels, applied after scale and rotation about the image centre. */
  dx: number;
  dy: number;
  scale: number;
  rotationDeg: number;
  /** 0–1: how far the estimate can be trusted (1 for the identity of an unaligned stack). */
  confidence: number;
}

export const IDENTITY: Readonly<FrameTransform> = Object.freeze({
  dx: 0,
  dy: 0,
  scale: 1,
  rotationDeg: 0,
  confidence: 1,
});

export function isIdentity(t: FrameTransform): boolean {
  return t.dx === 0 && t.dy === 0 && t.scale === 1 && t.rotationDeg === 0;
}
