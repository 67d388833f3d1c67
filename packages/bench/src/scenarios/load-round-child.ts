// One aofkv load + rewrite round in a process of its own, spawned by load-rewrite.ts with the
// parent's node flags. redis-server loads in a fresh process each round; so does aofkv here, as an
// embedding service does at start-up. Run in the bench's own process, after the write cells (their
// heap, lmdb's and SQLite's native state), the same load measured 37 MB/s against 63.5 MB/s
// alone (`pnpm bench` vs `pnpm bench --only load`, same machine, same hour).
//
//   argv[2]  JSON { ds, dir, round, config }     stdout  JSON { load, rewrite } (one line)

import { aofkvRound, type AofkvRoundSpec } from './load-rewrite.ts';

const spec = JSON.parse(process.argv[2] ?? '') as AofkvRoundSpec;
const result = await aofkvRound(spec.ds, spec.dir, spec.round, spec.config);
// Exit once the line is out: a pipe write is asynchronous, and worker threads may still be idle.
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
