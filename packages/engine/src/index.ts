// Public surface of @aofkv/engine.
export { openEngine, Engine, DbHandle, Transaction, Pipeline, HELPER_COMMANDS } from './engine.ts';
export type {
  Arg,
  ReplyValue,
  BufferReplyValue,
  EngineOptions,
  EngineTraceEvent,
  HelperCommand,
  LoadProgress,
} from './engine.ts';
export type { EngineConfig, FsyncPolicy } from './config.ts';
export { CONFIG_TABLE } from './config.ts';
export { EngineError, ReplyError } from './errors.ts';
export type { EngineErrorCode } from './errors.ts';
export type { Clock } from './io/clock.ts';
export type { FileSystem, FileStat, OpenMode, FsOp, FsErrorCode } from './io/file-system.ts';
export { FsError, isFsError } from './io/file-system.ts';
export { NodeFileSystem } from './io/node-file-system.ts';
export type { AofTraceEvent } from './aof/aof-writer.ts';
/** Where this module was loaded from (src/index.ts from source, dist/index.js when built). */
export const engineModuleUrl: string = import.meta.url;
