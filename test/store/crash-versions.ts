// The manifests the crash test's writer produces: version n is a pure function of n, with a size
// that changes from version to version, so a torn or mixed write cannot pass for a real one.
import type { Manifest } from '../../src/store/manifest.js';

export function versionOf(base: Manifest, n: number): Manifest {
  return {
    ...base,
    label: `version ${n}`,
    params: { n, padding: 'x'.repeat((n * 7919) % 6000) },
    progress: { captured: n, stacked: Math.floor(n / 2), total: base.progress.total },
    timings: { n, half: n / 2 },
  };
}
