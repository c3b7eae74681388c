// Per-frame geometric transform: it takes reference pixels to this frame's pixels, about the image
// centre c: x_frame = scale·R(rotation)·(x_ref − c) + c + (dx, dy). Frames not aligned keep the identity.

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
