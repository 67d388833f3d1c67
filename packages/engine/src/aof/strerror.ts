// Error texts for the AOF: Redis puts strerror(aof_last_write_errno) into the MISCONF reply, so the
// glibc wording is client-visible. The table lives with the FileSystem seam (io/file-system.ts).

import { isKnownFsErrorCode, strerror as fsStrerror } from '../io/file-system.ts';

export function strerror(code: string): string {
  return isKnownFsErrorCode(code) ? fsStrerror(code) : 'Unknown error';
}

/** The errno code of an error thrown by a file-system call ('EIO' when it has none). */
export function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string')
    return err.code;
  return 'EIO';
}
