import fs from 'node:fs';
import { openEngine } from '@aofkv/engine';
const dir = '/tmp/ceil'; fs.rmSync(dir, { recursive: true, force: true });
const engine: any = await openEngine({ dir, appendfsync: 'everysec', autoAofRewritePercentage: 0, latencyMonitorThreshold: Number(process.env.LMT ?? 0) });
const db = engine.db(0);
const value = 'v'.repeat(100);
const keys = Array.from({length: 100000}, (_, i) => 'key:' + String(i).padStart(12, '0'));
const N = 2_000_000;
for (let round = 0; round < 3; round++) {
  const t = performance.now();
  await new Promise<void>((resolve) => {
    let issued = 0;
    const worker = async () => { while (issued < N) { issued++; await db.set(keys[issued % 100000], value); } };
    Promise.all(Array.from({ length: 64 }, worker)).then(() => resolve());
  });
  const dt = performance.now() - t;
  console.log('db.set 64 in flight:', (N / dt * 1000 / 1e3).toFixed(0), 'k ops/s');
}
await engine.close();
