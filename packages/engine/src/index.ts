// Public surface of @aofkv/engine.
export { openEngine, Engine, DbHandle, Transaction, HELPER_COMMANDS } from './engine.ts';
export type { Arg, ReplyValue, BufferReplyValue, EngineOptions, HelperCommand } from './engine.ts';
export type { EngineConfig, FsyncPolicy } from './config.ts';
export { CONFIG_TABLE } from './config.ts';
export { EngineError, ReplyError } from './errors.ts';
export type { EngineErrorCode } from './errors.ts';
export type { Clock } from './io/clock.ts';
