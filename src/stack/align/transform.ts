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

/** The linear part of t, scale·R(rotation), as the matrix [[m00, m01], [m10, m11]]. */
export function linearPart(t: FrameTransform): { m00: number; m01: number; m10: number; m11: number } {
  const a = (t.rotationDeg * Math.PI) / 180;
  const c = t.scale * Math.cos(a);
  const s = t.scale * Math.sin(a);
  return { m00: c, m01: -s, m10: s, m11: c };
}

/** T2 ∘ T1 for similarities about the same centre: A = A2·A1, d = A2·d1 + d2. */
export function compose(t1: FrameTransform, t2: FrameTransform): FrameTransform {
  const { m00, m01, m10, m11 } = linearPart(t2);
  return {
    dx: m00 * t1.dx + m01 * t1.dy + t2.dx,
    dy: m10 * t1.dx + m11 * t1.dy + t2.dy,
    scale: t1.scale * t2.scale,
    rotationDeg: t1.rotationDeg + t2.rotationDeg,
    confidence: Math.min(t1.confidence, t2.confidence),
  };
}

/** T⁻¹: compose(t, invert(t)) is the identity (its confidence stays t's). */
export function invert(t: FrameTransform): FrameTransform {
  const inverse = { ...t, scale: 1 / t.scale, rotationDeg: -t.rotationDeg };
  const { m00, m01, m10, m11 } = linearPart(inverse);
  return { ...inverse, dx: -(m00 * t.dx + m01 * t.dy), dy: -(m10 * t.dx + m11 * t.dy) };
}

/**
 * Where t takes the reference pixel (x, y) of a width×height frame, as a function with the matrix
 * worked out once: callers map many points (corners, every cell of a coverage scan).
 */
export function pointMapper(
  t: FrameTransform,
  width: number,
  height: number,
): (x: number, y: number) => [number, number] {
  const { m00, m01, m10, m11 } = linearPart(t);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  return (x, y) => [m00 * (x - cx) + m01 * (y - cy) + cx + t.dx, m10 * (x - cx) + m11 * (y - cy) + cy + t.dy];
}
