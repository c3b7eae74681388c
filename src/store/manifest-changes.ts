// How the job store changes a manifest: a mutator runs on a copy, the result is checked against the
// schema, and a batch of changes is applied in order (a refused change leaves the manifest as it was).
import { BadArgumentError } from '../errors.js';
import { manifestSchema, type Manifest } from './manifest.js';

/** Changes a copy of the manifest in place, or returns a replacement; may be async. */
export type ManifestMutator = (draft: Manifest) => void | Manifest | Promise<void | Manifest>;

export interface ManifestChange {
  /** Work the change depends on (fsync the frame it lists); if it fails, this change alone is refused. */
  prepare?: () => Promise<void>;
  mutate: ManifestMutator;
}

/** Per change of a batch, in order: the manifest just after it, or why it was refused. */
export type ChangeOutcome = { ok: true; manifest: Manifest } | { ok: false; error: unknown };

/** The mutator's result on a copy of `current`, checked against the schema; throws BAD_ARGUMENT. */
export async function applyChange(
  id: string,
  current: Manifest,
  mutator: ManifestMutator,
): Promise<Manifest> {
  const draft = structuredClone(current);
  const returned: unknown = await mutator(draft);
  // `(m) => m.progress.captured++` returns a number, not a manifest: that means "changed in place".
  const next = typeof returned === 'object' && returned !== null ? returned : draft;
  const checked = manifestSchema.safeParse(next);
  if (!checked.success) {
    throw new BadArgumentError(`update of job ${id}: ${describeIssue(checked.error.issues[0])}`);
  }
  if (checked.data.id !== id) throw new BadArgumentError(`update of job ${id} may not change its id`);
  return checked.data;
}

/** Applies `changes` in order on top of `current`: the manifest after the last accepted one, and each outcome. */
export async function applyBatch(
  id: string,
  current: Manifest,
  changes: ManifestChange[],
): Promise<{ manifest: Manifest; outcomes: ChangeOutcome[] }> {
  let manifest = current;
  const outcomes: ChangeOutcome[] = [];
  for (const change of changes) {
    try {
      await change.prepare?.();
      manifest = await applyChange(id, manifest, change.mutate);
      outcomes.push({ ok: true, manifest });
    } catch (error) {
      outcomes.push({ ok: false, error });
    }
  }
  return { manifest, outcomes };
}

export function serialiseManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export function describeIssue(issue: { path: PropertyKey[]; message: string }): string {
  return `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`;
}
