// @aofkv/bio-workers: Redis 7.0's bio threads (background fsync and close) for the AOF writer.
// createPiscinaBio() runs them on real threads; InlineBio is the deterministic twin for tests and
// simulations. Both implement BioClient and pass the same conformance suite.
export type {
  BioClient,
  BioEvent,
  BioEventObserver,
  BioJobType,
  FsyncStatus,
} from './bio-client.ts';
export { BIO_JOB_TYPES } from './bio-jobs.ts';
export {
  BIO_POOL_OPTIONS,
  createPiscinaBio,
  type PiscinaBio,
  type PiscinaBioOptions,
} from './bio.ts';
export { FSYNC_DELAY_MS_MAX, FSYNC_FAULTS_FOREVER } from './bio-counters.ts';
export { BioError, type BioErrorCode } from './errors.ts';
export { InlineBio, type InlineBioOps, type InlineBioOptions } from './inline-bio.ts';
export { resolveBioWorker, resolveWorkerScript, type BioWorkerLocation } from './worker-url.ts';
