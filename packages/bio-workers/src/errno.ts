// errno helpers. Redis stores the positive errno of a failed fsync (aof_bio_fsync_errno); Node's fs
// errors carry a negative libuv errno plus a string code. Both threads use these helpers, so the
// threaded bio and InlineBio classify errors identically.
import { constants } from 'node:os';

const ERRNO_BY_CODE: Readonly<Record<string, number>> = constants.errno;
const CODE_BY_ERRNO: ReadonlyMap<number, string> = new Map(
  Object.entries(ERRNO_BY_CODE).map(([code, errno]) => [errno, code]),
);

export const EIO = ERRNO_BY_CODE['EIO'] ?? 5;
const EBADF = ERRNO_BY_CODE['EBADF'] ?? 9;
const EINVAL = ERRNO_BY_CODE['EINVAL'] ?? 22;

/** Positive errno of an fs-style error ({ errno, code }), or null when it is not an errno error. */
export function errnoOfError(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const { errno, code } = error as { errno?: unknown; code?: unknown };
  if (typeof errno === 'number' && Number.isInteger(errno) && errno !== 0) return Math.abs(errno);
  if (typeof code === 'string') return ERRNO_BY_CODE[code] ?? null;
  return null;
}

/** "EIO" for 5; "E<n>" for an errno this platform has no name for. */
export function codeOfErrno(errno: number): string {
  return CODE_BY_ERRNO.get(errno) ?? `E${errno}`;
}

/** Positive errno for a code such as "EIO"; throws for an unknown code (a caller bug). */
export function errnoOfCode(code: string): number {
  const errno = ERRNO_BY_CODE[code];
  if (errno === undefined) throw new RangeError(`unknown errno code: ${code}`);
  return errno;
}

/**
 * bio.c: "The fd may be closed by main thread and reused for another socket, pipe, or file. We just
 * ignore these errno because aof fsync did not really fail." Ignored means the success branch: the
 * status is set to OK.
 */
export function isIgnoredFsyncErrno(errno: number): boolean {
  return errno === EBADF || errno === EINVAL;
}
