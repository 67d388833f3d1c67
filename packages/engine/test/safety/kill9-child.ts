// The process that kill9.test.ts kills. Run as
//   node --import tsx --conditions=@aofkv/source kill9-child.ts <dir> <always|everysec|no> [rewriteEvery]
// with an IPC channel. It opens an engine on the real file system (real piscina bio, real cron,
// the rewrite's writer thread), then runs command i = 0, 1, 2, ... with a window of concurrent
// commands (so turns group-commit), and sends { acked: i } when command i's reply arrives. Replies
// of one turn resolve in order, and each message leaves after its reply, so the parent's count is
// a lower bound of what was acked. With `rewriteEvery` > 0 it also sends BGREWRITEAOF after every
// `rewriteEvery` acknowledgements (in the same turns as the writes) and reports the rewrite's
// life over IPC from the engine's log: { rewrite: 'started' | 'done' | 'failed' }. 'started' is
// sent once the new INCR is in the manifest and the writer has switched to it.
// The workload makes "which prefix survived" readable from the state alone:
//   i % 3 == 0   SET k:<i> v:<i>
//   i % 3 == 1   RPUSH list <i>
//   i % 3 == 2   INCR counter
// It never stops by itself before MAX_COMMANDS: the parent kills it with SIGKILL.

import { openEngine, type FsyncPolicy } from '@aofkv/engine';

const WINDOW = 8;
const MAX_COMMANDS = 200_000;

export function commandFor(i: number): string[] {
  switch (i % 3) {
    case 0:
      return ['set', `k:${i}`, `v:${i}`];
    case 1:
      return ['rpush', 'list', String(i)];
    default:
      return ['incr', 'counter'];
  }
}

function send(message: object): void {
  if (process.send === undefined) throw new Error('kill9-child needs an IPC channel (fork it)');
  process.send(message);
}

async function main(): Promise<void> {
  const [dir, policy, rewriteEveryText] = process.argv.slice(2);
  if (dir === undefined || !['always', 'everysec', 'no'].includes(policy ?? '')) {
    throw new Error('usage: kill9-child.ts <dir> <always|everysec|no> [rewriteEvery]');
  }
  const rewriteEvery = Number(rewriteEveryText ?? 0);
  const engine = await openEngine({ dir, appendfsync: policy as FsyncPolicy, autoAofRewritePercentage: 0 });
  engine.on('log', (_level: string, message: string) => {
    if (message.startsWith('Background append only file rewriting started')) send({ rewrite: 'started' });
    else if (message.startsWith('Background AOF rewrite finished successfully')) send({ rewrite: 'done' });
    else if (message.startsWith('Background AOF rewrite failed')) send({ rewrite: 'failed' });
  });
  const db = engine.db(0);
  send({ ready: true });
  let next = 0;
  let acked = 0;
  const runOne = async (): Promise<void> => {
    while (next < MAX_COMMANDS) {
      const i = next++;
      const [name, ...args] = commandFor(i);
      await db.command(name!, ...args);
      send({ acked: i });
      // "already in progress" while one runs: that is fine, the next one comes later.
      if (rewriteEvery > 0 && ++acked % rewriteEvery === 0) void db.command('bgrewriteaof').catch(() => {});
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, runOne));
  await engine.close();
  send({ done: true });
}

// Only when run as the child process, not when the test imports commandFor().
if (process.argv[1]?.endsWith('kill9-child.ts') === true) {
  main().catch((error: unknown) => {
    send({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exitCode = 1;
  });
}
