import fs from 'node:fs';
import { openEngine } from '@aofkv/engine';
const dir = '/tmp/ceil'; fs.rmSync(dir, { recursive: true, force: true });
const engine: any = await openEngine({ dir, appendfsync: 'everysec' });
const db = engine.db(0);
const client = db.client;
const value = 'v'.repeat(100);
const N = 1_000_000;
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  for (let i = 0; i < N; i++) {
    engine.server.execute(client, ['set', 'key:' + String(i % 100000).padStart(12, '0'), value]);
    if ((i & 63) === 63) engine.persistence.beforeSleep();
  }
  let dt = performance.now() - t;
  console.log('raw execute + flush per 64:', (N / dt * 1000 / 1e3).toFixed(0), 'k ops/s');
  t = performance.now();
  const ps: Promise<unknown>[] = [];
  let done = 0;
  await new Promise<void>((resolve) => {
    let issued = 0;
    const worker = async () => { while (issued < N) { issued++; await db.set('key:' + String(issued % 100000).padStart(12, '0'), value); } };
    Promise.all(Array.from({ length: 64 }, worker)).then(() => resolve());
  });
  dt = performance.now() - t;
  console.log('db.set 64 in flight:', (N / dt * 1000 / 1e3).toFixed(0), 'k ops/s');
}
await engine.close();
