// glibc strerror() texts for the errno codes an AOF write or fsync can fail with; Redis puts
// strerror(aof_last_write_errno) into the MISCONF reply, so the exact wording is client-visible.

const MESSAGES: Record<string, string> = {
  ENOSPC: 'No space left on device',
  EIO: 'Input/output error',
  EBADF: 'Bad file descriptor',
  EINVAL: 'Invalid argument',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EROFS: 'Read-only file system',
  EDQUOT: 'Disk quota exceeded',
  EFBIG: 'File too large',
  ENOENT: 'No such file or directory',
  EEXIST: 'File exists',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EMFILE: 'Too many open files',
  EAGAIN: 'Resource temporarily unavailable',
  EINTR: 'Interrupted system call',
};

/** Linux errno numbers for the codes above (Node reports negative errno; Redis uses positive). */
export const ERRNO: Record<string, number> = {
  EPERM: 1, ENOENT: 2, EINTR: 4, EIO: 5, EBADF: 9, EAGAIN: 11, EACCES: 13, EEXIST: 17,
  ENOTDIR: 20, EISDIR: 21, EINVAL: 22, EMFILE: 24, EFBIG: 27, ENOSPC: 28, EROFS: 30, EDQUOT: 122,
};

export function strerror(code: string): string {
  return MESSAGES[code] ?? `Unknown error ${code}`;
}

/** The errno code of an error thrown by a file-system call ('EIO' when unknown). */
export function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return 'EIO';
}
