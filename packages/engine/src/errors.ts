// Errors that leave the engine. Each has a stable `code` that callers branch on (undici-style),
// a message that says what happened and what to do, and the underlying `cause` when there is one.
//   ReplyError   a command's error reply; `code` is the Redis prefix (ERR, WRONGTYPE, MISCONF, ...)
//   EngineError  an operating error of the engine itself (bad option, closed engine, AOF failure)

export type EngineErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_ENGINE_CLOSED'
  | 'ERR_ENGINE_FATAL'
  | 'ERR_AOF_WRITE'
  | 'ERR_AOF_FSYNC'
  | 'ERR_AOF_LOAD'
  | 'ERR_AOF_TRUNCATED'
  | 'ERR_AOF_BAD_FORMAT'
  | 'ERR_AOF_UNKNOWN_COMMAND'
  | 'ERR_AOF_BAD_ARITY'
  | 'ERR_AOF_MISSING_FILE'
  | 'ERR_AOF_MANIFEST'
  | 'ERR_AOF_OPEN'
  | 'ERR_AOF_NOT_PERSISTED'
  | 'ERR_DIR_LOCKED'
  | 'ERR_AOF_DISABLED'
  | 'ERR_RDB'
  | 'ERR_NOT_SUPPORTED';

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
    this.code = code;
  }
}

/** A Redis error reply surfaced as a rejected promise. */
export class ReplyError extends Error {
  /** The Redis error prefix, e.g. "ERR", "WRONGTYPE", "MISCONF", "EXECABORT". */
  readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = 'ReplyError';
    const sp = message.indexOf(' ');
    this.code = sp === -1 ? message : message.slice(0, sp);
  }
}
