// The shapes the page reads from the daemon's API (src/api/routes/*, src/store/manifest.ts,
// src/events.ts), written out for the browser code, which cannot import the server's zod schemas.

export interface StagePosition {
  um: number;
  steps: number;
  certain: boolean;
  uncertainReason?: string;
}

export interface Status {
  rig: { kind: 'pi' | 'simulated'; camera: string; indicator: string };
  stage: { position: StagePosition; limits: { minUm: number; maxUm: number }; stepUm: number };
  job: { id: string; status: string } | null;
  queued: number;
}

export interface Progress {
  captured: number;
  stacked: number;
  total: number;
}

export interface FrameEntry {
  index: number;
  file: string;
  stageUm?: number;
  capturedAt?: string;
}

export interface Job {
  id: string;
  label: string;
  kind: 'capture' | 'restack' | 'upload';
  status: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  params: {
    planes?: number[];
    step?: number;
    stack?: StackSettings;
    schedule?: { id: string; run: number };
    [key: string]: unknown;
  };
  progress: Progress;
  /** Full job only (GET /api/stacks/:id); the list has frameCount instead. */
  frames?: FrameEntry[];
  frameCount?: number;
  results: Record<string, string | undefined>;
  timings: Record<string, number>;
  error?: { code: string; message: string };
  note?: string;
  sourceJobId?: string;
  framesDeleted?: boolean;
}

export interface StackSettings {
  method?: string;
  measure?: string;
  align?: string;
}

export type DaemonEvent =
  | {
      type: 'job';
      id: string;
      status: string;
      progress?: Progress;
      latestFrame?: number;
      /** A new running preview (preview.jpg) after this many merged frames. */
      preview?: number;
    }
  | { type: 'stage'; event: string; um: number; certain: boolean }
  | { type: 'button'; kind: 'short' | 'long'; action: string };

export const FINISHED_STATUSES = new Set(['done', 'failed', 'cancelled', 'interrupted']);

/** Choices of the stacker's settings (src/stack/types.ts, src/stack/align/aligner.ts). */
export const STACK_CHOICES = {
  method: ['depthmap', 'pyramid'],
  measure: ['laplacian', 'tenengrad', 'fft'],
  align: ['auto', 'none', 'translation', 'similarity'],
} as const;
