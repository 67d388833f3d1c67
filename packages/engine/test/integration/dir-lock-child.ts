// A process that dir-lock-processes.test.ts races, kills and blocks. Run as
//   node --import tsx --conditions=@aofkv/source dir-lock-child.ts
// with an IPC channel. It waits for orders, so one child serves many trials:
//   { kind: 'open', dir }  openEngine on dir (real disk, real bio); answers { kind: 'opened',
//                          pid, warnings } or { kind: 'refused', code, message }
//   { kind: 'set', key }   SET key on the open engine; answers { kind: 'acked' }
//   { kind: 'close' }      close the engine; answers { kind: 'closed' }
// It never exits by itself: the parent disconnects it (it then exits) or kills it.

import { openEngine, type Engine } from '@aofkv/engine';

type Order = { kind: 'open'; dir: string } | { kind: 'set'; key: string } | { kind: 'close' };

let engine: Engine | null = null;

function send(message: object): void {
  process.send?.(message);
}

process.on('message', (order: Order) => {
  void handle(order).catch((err: unknown) => send({ kind: 'error', message: String(err) }));
});
process.on('disconnect', () => process.exit(0));
send({ kind: 'ready', pid: process.pid });

async function handle(order: Order): Promise<void> {
  switch (order.kind) {
    case 'open': {
      const warnings: string[] = [];
      try {
        engine = await openEngine({
          dir: order.dir,
          appendfsync: 'everysec',
          logger: (level, message) => {
            if (level === 'warning') warnings.push(message);
          },
        });
        send({ kind: 'opened', pid: process.pid, warnings });
      } catch (err) {
        const { code, message } = err as { code?: string; message: string };
        send({ kind: 'refused', code, message });
      }
      return;
    }
    case 'set':
      await engine!.db(0).set(order.key, 'v');
      send({ kind: 'acked' });
      return;
    case 'close':
      await engine?.close();
      engine = null;
      send({ kind: 'closed' });
      return;
  }
}
