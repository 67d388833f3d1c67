import fs from 'node:fs';
import { AofkvSystem } from '../src/systems/aofkv.ts';
import { measureClosedLoop } from '../src/harness.ts';
const dir = '/tmp/lean'; fs.rmSync(dir, { recursive: true, force: true }); fs.mkdirSync(dir);
const s = await AofkvSystem.open((process.env.MODE ?? 'everysec') as any, dir);
const op = s.makeOp('set', 7);
async function lean(op: () => Promise<unknown>, inFlight: number, ms: number) {
  let stop = false; let ops = 0; const lat: number[] = [];
  setTimeout(() => { stop = true; }, ms);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => { while (!stop) { const t = performance.now(); await op(); lat.push(performance.now() - t); ops++; } }));
  return ops / (performance.now() - t0) * 1000;
}
for (let i = 0; i < 3; i++) {
  const a = await measureClosedLoop(op, { inFlight: 64, durationMs: 2000, retainSamples: true });
  const b = await lean(op, 64, 2000);
  console.log('tinybench', (a.opsPerSec/1e3).toFixed(0), 'k   lean', (b/1e3).toFixed(0), 'k');
}
await s.close();
