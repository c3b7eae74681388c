// The project's error catalogue: one stable code per failure, with the HTTP status and CLI exit
// code it maps to, so the API, the CLI and the docs speak of failures the same way.

export interface ErrorSpec {
  /** HTTP status the API answers with. */
  status: number;
  /** Process exit code the CLI ends with. */
  exitCode: number;
  description: string;
}

export const ERROR_CATALOGUE = {
  BAD_ARGUMENT: {
    status: 400,
    exitCode: 2,
    description: 'A flag, option or field has a value outside what it accepts.',
  },
  INPUT_UNREADABLE: {
    status: 422,
    exitCode: 2,
    description: 'An input image cannot be read or decoded (missing, corrupt, truncated, not an image).',
  },
  INPUT_MISMATCH: {
    status: 422,
    exitCode: 2,
    description: 'An input image differs in size from the first frame of the stack.',
  },
  STACK_EMPTY: { status: 422, exitCode: 2, description: 'A stack was finished without any frame.' },
  STACK_TOO_LONG: {
    status: 422,
    exitCode: 2,
    description: 'A stack has more frames than the depth map can index.',
  },
  OUTPUT_FAILED: {
    status: 500,
    exitCode: 1,
    description: 'A result could not be written (disk full, no permission, bad path).',
  },
  WORKER_FAILED: {
    status: 500,
    exitCode: 1,
    description: 'A stacking worker thread crashed or reported an error.',
  },
  STACKER_STATE: {
    status: 500,
    exitCode: 1,
    description: 'The stacker was used out of order (a frame after finish, finish twice).',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class StackscopeError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StackscopeError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.exitCode = ERROR_CATALOGUE[code].exitCode;
  }
}

export class BadArgumentError extends StackscopeError {
  constructor(message: string) {
    super('BAD_ARGUMENT', message);
    this.name = 'BadArgumentError';
  }
}

export class InputError extends StackscopeError {
  readonly file: string;
  constructor(code: 'INPUT_UNREADABLE' | 'INPUT_MISMATCH', file: string, message: string, cause?: unknown) {
    super(code, `${file}: ${message}`, { cause });
    this.name = 'InputError';
    this.file = file;
  }
}
