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
  CONFIG_INVALID: {
    status: 400,
    exitCode: 2,
    description: 'The configuration (file, environment or flags) has a key with a value it does not accept.',
  },
  STAGE_LIMIT: {
    status: 422,
    exitCode: 2,
    description: 'A stage move would pass a soft limit; it was refused and nothing moved.',
  },
  STAGE_BUSY: {
    status: 409,
    exitCode: 1,
    description: 'The stage is already moving; one move at a time.',
  },
  STAGE_NO_HOMING: {
    status: 409,
    exitCode: 2,
    description: 'Homing was asked for, but no limit switch is configured.',
  },
  HOMING_FAILED: {
    status: 500,
    exitCode: 1,
    description: 'The limit switch did not trigger within the stage travel while homing.',
  },
  CANCELLED: {
    status: 409,
    exitCode: 1,
    description: 'The operation was stopped before it finished (stop, cancel, shutdown).',
  },
  GPIO_UNAVAILABLE: {
    status: 503,
    exitCode: 1,
    description: 'GPIO cannot be used: not a Raspberry Pi, no permission, or a pin is taken.',
  },
  CAMERA_UNAVAILABLE: {
    status: 503,
    exitCode: 1,
    description: 'No camera program (rpicam-still or libcamera-still) could be started.',
  },
  CAMERA_FAILED: {
    status: 502,
    exitCode: 1,
    description: 'The camera process exited or reported an error; its messages are included.',
  },
  CAMERA_TIMEOUT: {
    status: 504,
    exitCode: 1,
    description: 'The camera did not deliver a complete frame in time; the process was restarted.',
  },
  NOT_FOUND: {
    status: 404,
    exitCode: 2,
    description: 'No job, frame, result or schedule has that id or name.',
  },
  JOB_ACTIVE: {
    status: 409,
    exitCode: 1,
    description: 'The job is running; cancel it first.',
  },
  RIG_BUSY: {
    status: 409,
    exitCode: 1,
    description: 'The rig is running another job and queueing is off.',
  },
  DISK_FULL: {
    status: 507,
    exitCode: 1,
    description: 'Not enough free disk space for the job (needed and free space are named).',
  },
  UNAUTHORIZED: {
    status: 401,
    exitCode: 2,
    description: 'A changing request came without the bearer token the server is configured with.',
  },
  TOO_LARGE: { status: 413, exitCode: 2, description: 'A request body or upload is larger than the limit.' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    exitCode: 2,
    description: 'A request body has a content type the route does not take.',
  },
  RATE_LIMITED: { status: 429, exitCode: 1, description: 'Too many requests from one client; retry later.' },
  INTERNAL: {
    status: 500,
    exitCode: 1,
    description: 'An unexpected failure; the server log has the details.',
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
