// Public surface of @aofkv/engine/worker: the engine's client for worker threads.
export {
  connectEngine,
  RemoteEngine,
  RemoteDb,
  RemoteTransaction,
  RemotePipeline,
} from './worker-client.ts';
export type { Arg, ReplyValue, BufferReplyValue } from './worker-client.ts';
export { EngineError, ReplyError } from '../errors.ts';
