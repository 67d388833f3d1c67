// Errors thrown by bio clients. Callers branch on `code`; every one of these is a caller bug
// (submit after close, bad fd, driving InlineBio wrongly), never an IO outcome: IO outcomes are
// reported through fsyncStatus() and the `error` field of events, as Redis does.

export type BioErrorCode =
  | 'BIO_CLOSED'
  | 'BIO_INVALID_FD'
  | 'BIO_INVALID_OPTION'
  | 'BIO_NO_SUCH_JOB'
  | 'BIO_JOB_RUNNING'
  | 'BIO_WAIT_TIMEOUT';

export class BioError extends Error {
  readonly code: BioErrorCode;

  constructor(code: BioErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BioError';
    this.code = code;
  }
}

/** File descriptors travel as Int32 in job payloads and counters. */
export function assertValidFd(fd: number): void {
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fff_ffff) {
    throw new BioError('BIO_INVALID_FD', `fd must be an integer in [0, 2^31), got ${fd}`);
  }
}
