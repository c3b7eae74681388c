// Frame-to-frame motion of the simulated rig: stage wobble, focus breathing and slight rotation, as known
// similarity transforms, and the bicubic warp that shows a frame rendered in reference geometry as moved.

import { compose, IDENTITY, invert, type FrameTransform } from '../../stack/align/transform.js';
import type { Frame } from '../../stack/types.js';
import { GaussianStream, hashSeed, mulberry32 } from './prng.js';

/**
 * The geometric part of a FrameTransform. It maps reference-frame pixel coordinates to this frame's, about
 * the image centre c = ((W − 1) / 2, (H − 1) / 2):
 *
 *   x_frame = scale · R(rotationDeg) · (x_ref − c) + c + (dx, dy),   R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]]
 *
 * With y pointing down, a positive rotation turns the content clockwise on screen; scale > 1 magnifies it.
 */
export type Motion = Pick<FrameTransform, 'dx' | 'dy' | 'scale' | 'rotationDeg'>;

export interface WarpOptions {
  /** Gaussian sensor noise std-dev as a fraction of full scale, added after the warp. Default 0. */
  noise?: number;
  /** Noise seed. Default 1. */
  seed?: number;
}

const clampIndex = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);

/** The inverse mapping as u = u0 + ux·x + uy·y, v = v0 + vx·x + vy·y from output pixel to input pixel. */
function inverseAffine(t: Motion, w: number, h: number, ox: number, oy: number) {
  if (!(t.scale > 0 && Number.isFinite(t.scale))) throw new RangeError(`scale must be > 0, got ${t.scale}`);
  const th = (t.rotationDeg * Math.PI) / 180;
  const [a, b] = [Math.cos(th) / t.scale, Math.sin(th) / t.scale];
  const [cx, cy] = [(w - 1) / 2, (h - 1) / 2];
  // x_ref = c + R(−θ)·(x_frame − c − d) / s, with x_frame = x_out + (ox, oy). Written so that the identity
  // and integer shifts come out exact in floating point (a = 1, b = 0, every term a small integer or half).
  const [X0, Y0] = [ox - cx - t.dx, oy - cy - t.dy];
  return { u0: cx + a * X0 + b * Y0, ux: a, uy: b, v0: cy - b * X0 + a * Y0, vx: -b, vy: a };
}

/**
 * Renders what the camera sees after the scene moved by t: out(x_frame) = frame(x_ref), sampled bicubically
 * (Keys, a = −0.5: exact at integer positions, so the identity and integer shifts copy pixels unchanged).
 * `frame` is the view in reference geometry. Where x_ref falls outside it, the edge pixels are repeated
 * (clamped taps): a real camera would see more of the scene there. To avoid that band, render a larger
 * frame and pass a smaller `out`: out is then the centred window of the warped frame, i.e. its pixel (x, y)
 * is the warped frame's (x + (W − w) / 2, y + (H − h) / 2), and the transform is taken about out's centre
 * (the same point when W − w and H − h are even). makeSyntheticStack does this with a scene margin.
 * Any bit depth and channel count; out must match them and must not share frame's buffer.
 */
export function warpFrame(frame: Frame, t: Motion, out?: Frame, opts: WarpOptions = {}): Frame {
  const { width: W, height: H, channels: nc, bitDepth } = frame;
  const dst = out ?? {
    width: W,
    height: H,
    channels: nc,
    bitDepth,
    data: bitDepth === 8 ? new Uint8Array(W * H * nc) : new Uint16Array(W * H * nc),
  };
  const { width: w, height: h, data: o } = dst;
  if (dst.channels !== nc || dst.bitDepth !== bitDepth || (bitDepth === 8) !== o instanceof Uint8Array)
    throw new RangeError('out must have the same channels and bit depth as the frame');
  if (o.length !== w * h * nc) throw new RangeError(`out holds ${o.length} samples, not ${w}×${h}×${nc}`);
  if (o.buffer === frame.data.buffer) throw new RangeError('out must not share the frame buffer');

  const d = frame.data;
  const maxOut = bitDepth === 8 ? 255 : 65535;
  const { u0, ux, uy, v0, vx, vy } = inverseAffine(t, W, H, (W - w) / 2, (H - h) / 2);
  const noiseSigma = (opts.noise ?? 0) * maxOut;
  const stream = noiseSigma > 0 ? new GaussianStream(opts.seed ?? 1) : null;
  const noise = new Float32Array(w * nc);
  const rowStride = W * nc;
  const [n2, n3] = [2 * nc, 3 * nc];
  for (let y = 0; y < h; y++) {
    if (stream) stream.fill(noise, noiseSigma);
    const ru = u0 + uy * y;
    const rv = v0 + vy * y;
    for (let x = 0, op = y * w * nc; x < w; x++) {
      const u = ru + ux * x;
      const v = rv + vx * x;
      const iu = Math.floor(u);
      const iv = Math.floor(v);
      const tx = u - iu;
      const ty = v - iv;
      // Catmull-Rom weights for taps at −1, 0, +1, +2 from the floor; (0, 1, 0, 0) at t = 0.
      const tx2 = tx * tx;
      const tx3 = tx2 * tx;
      const wx0 = 0.5 * (-tx3 + 2 * tx2 - tx);
      const wx1 = 0.5 * (3 * tx3 - 5 * tx2 + 2);
      const wx2 = 0.5 * (-3 * tx3 + 4 * tx2 + tx);
      const wx3 = 0.5 * (tx3 - tx2);
      const ty2 = ty * ty;
      const ty3 = ty2 * ty;
      const wy0 = 0.5 * (-ty3 + 2 * ty2 - ty);
      const wy1 = 0.5 * (3 * ty3 - 5 * ty2 + 2);
      const wy2 = 0.5 * (-3 * ty3 + 4 * ty2 + ty);
      const wy3 = 0.5 * (ty3 - ty2);
      const inside = iu >= 1 && iu < W - 2 && iv >= 1 && iv < H - 2;
      if (inside) {
        // Fast path: the 4×4 taps are consecutive samples on four consecutive rows.
        const base = ((iv - 1) * W + iu - 1) * nc;
        for (let c = 0; c < nc; c++, op++) {
          const r0 = base + c;
          const r1 = r0 + rowStride;
          const r2 = r1 + rowStride;
          const r3 = r2 + rowStride;
          const acc =
            wy0 * (wx0 * d[r0] + wx1 * d[r0 + nc] + wx2 * d[r0 + n2] + wx3 * d[r0 + n3]) +
            wy1 * (wx0 * d[r1] + wx1 * d[r1 + nc] + wx2 * d[r1 + n2] + wx3 * d[r1 + n3]) +
            wy2 * (wx0 * d[r2] + wx1 * d[r2 + nc] + wx2 * d[r2 + n2] + wx3 * d[r2 + n3]) +
            wy3 * (wx0 * d[r3] + wx1 * d[r3 + nc] + wx2 * d[r3 + n2] + wx3 * d[r3 + n3]);
          const val = acc + noise[x * nc + c] + 0.5;
          o[op] = val < 0 ? 0 : val >= maxOut ? maxOut : val | 0;
        }
        continue;
      }
      // Edge path: clamped taps repeat the border pixels.
      const x0 = clampIndex(iu - 1, W) * nc;
      const x1 = clampIndex(iu, W) * nc;
      const x2 = clampIndex(iu + 1, W) * nc;
      const x3 = clampIndex(iu + 2, W) * nc;
      const y0 = clampIndex(iv - 1, H) * rowStride;
      const y1 = clampIndex(iv, H) * rowStride;
      const y2 = clampIndex(iv + 1, H) * rowStride;
      const y3 = clampIndex(iv + 2, H) * rowStride;
      for (let c = 0; c < nc; c++, op++) {
        const [r0, r1, r2, r3] = [y0 + c, y1 + c, y2 + c, y3 + c];
        const acc =
          wy0 * (wx0 * d[r0 + x0] + wx1 * d[r0 + x1] + wx2 * d[r0 + x2] + wx3 * d[r0 + x3]) +
          wy1 * (wx0 * d[r1 + x0] + wx1 * d[r1 + x1] + wx2 * d[r1 + x2] + wx3 * d[r1 + x3]) +
          wy2 * (wx0 * d[r2 + x0] + wx1 * d[r2 + x1] + wx2 * d[r2 + x2] + wx3 * d[r2 + x3]) +
          wy3 * (wx0 * d[r3 + x0] + wx1 * d[r3 + x1] + wx2 * d[r3 + x2] + wx3 * d[r3 + x3]);
        const val = acc + noise[x * nc + c] + 0.5;
        o[op] = val < 0 ? 0 : val >= maxOut ? maxOut : val | 0;
      }
    }
  }
  return dst;
}

export interface WobbleOptions {
  seed: number;
  /** Largest stage shift between consecutive frames, px (a random step within this radius). Default 1.5. */
  shiftPx?: number;
  /** Focus breathing: frame i has scale 1 + i · scalePerFrame. Default 0.0015. */
  scalePerFrame?: number;
  /** Rotation stays within ±this, degrees. Default 0.2. */
  rotationDeg?: number;
}

const WOBBLE_STREAM = 0x776f6262;

/**
 * Plausible per-frame motion of a focus stack, deterministic from the seed. Frame 0 is the reference
 * (identity). Shift is a random walk (so |(dx, dy)| ≤ i · shiftPx), scale changes linearly (breathing is
 * systematic with focus, not random), rotation is a slow walk with steps up to half the bound, reflected
 * back into ±rotationDeg. Every transform is truth, so confidence is 1.
 */
export function wobbleTransforms(frames: number, opts: WobbleOptions): FrameTransform[] {
  if (!(Number.isInteger(frames) && frames >= 1))
    throw new RangeError(`frames must be an integer ≥ 1, got ${frames}`);
  const shift = Math.abs(opts.shiftPx ?? 1.5);
  const breathe = opts.scalePerFrame ?? 0.0015;
  const maxRot = Math.abs(opts.rotationDeg ?? 0.2);
  const rng = mulberry32(hashSeed(opts.seed, WOBBLE_STREAM));
  const out: FrameTransform[] = [{ ...IDENTITY }];
  let [dx, dy, rot] = [0, 0, 0];
  for (let i = 1; i < frames; i++) {
    // Uniform over the disc of radius `shift`: the stage jolts in any direction, never more than that.
    const [angle, len] = [rng() * 2 * Math.PI, shift * Math.sqrt(rng())];
    dx += len * Math.cos(angle);
    dy += len * Math.sin(angle);
    rot += ((rng() * 2 - 1) * maxRot) / 2;
    if (rot > maxRot) rot = 2 * maxRot - rot;
    if (rot < -maxRot) rot = -2 * maxRot - rot;
    out.push({ dx, dy, scale: 1 + breathe * i, rotationDeg: rot, confidence: 1 });
  }
  return out;
}

/**
 * The same motion seen from frame `reference` instead of frame 0: that frame's view becomes the
 * reference geometry (the identity) and every other transform is re-expressed against it. For stacks
 * whose truth must be in a middle frame's geometry, as a stacker aligning to its middle frame sees it.
 */
export function rebaseTransforms(transforms: readonly FrameTransform[], reference: number): FrameTransform[] {
  if (!(Number.isInteger(reference) && reference >= 0 && reference < transforms.length))
    throw new RangeError(`reference must be a frame index below ${transforms.length}, got ${reference}`);
  const back = invert(transforms[reference]);
  return transforms.map((t, i) => (i === reference ? { ...IDENTITY } : compose(back, t)));
}

/**
 * How far (px) a w×h frame's view reaches beyond its own edges, in reference geometry, under any of the
 * transforms: the scene margin a warp needs so that it never samples past the rendered area. The view
 * is a parallelogram, so its corners bound it.
 */
export function viewOverhang(transforms: readonly Motion[], w: number, h: number): number {
  let worst = 0;
  for (const t of transforms) {
    const { u0, ux, uy, v0, vx, vy } = inverseAffine(t, w, h, 0, 0);
    for (const [x, y] of [
      [0, 0],
      [w - 1, 0],
      [0, h - 1],
      [w - 1, h - 1],
    ]) {
      const [u, v] = [u0 + ux * x + uy * y, v0 + vx * x + vy * y];
      worst = Math.max(worst, -u, u - (w - 1), -v, v - (h - 1));
    }
  }
  return worst;
}
