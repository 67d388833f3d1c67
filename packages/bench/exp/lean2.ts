import fs from 'node:fs';
import { openEngine } from '@aofkv/engine';
import { createPiscinaBio } from '@aofkv/bio-workers';
import { CountingFileSystem } from '../src/counting-fs.ts';
import { keyNames, newOp, opGenerator } from '../src/workload.ts';
const dir = '/tmp/lean2'; fs.rmSync(dir, { recursive: true, force: true }); fs.mkdirSync(dir);
const E = process.env;
const opts: any = { dir, appendfsync: 'everysec', autoAofRewritePercentage: 0 };
if (E.CFS) opts.fs = new CountingFileSystem();
if (E.BIO) { const bio = createPiscinaBio(); if (E.OBS) bio.onEvent = () => {}; opts.bio = bio; }
if (E.LMT) opts.latencyMonitorThreshold = 1;
const engine = await openEngine(opts);
const db = engine.db(0);
const n = keyNames(); const next = opGenerator('set', 7); const o = newOp();
const op = () => { next(o); return db.set(n.strings[o.key]!, n.values[o.value]!); };
async function lean(inFlight: number, ms: number) {
  let stop = false; let ops = 0;
  setTimeout(() => { stop = true; }, ms);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => { while (!stop) { await op(); ops++; } }));
  return ops / (performance.now() - t0) * 1000;
}
const r = []; for (let i = 0; i < 3; i++) r.push(((await lean(64, 1500))/1e3).toFixed(0));
console.log(JSON.stringify({CFS:E.CFS,BIO:E.BIO,OBS:E.OBS,LMT:E.LMT}), r.join(' '));
await engine.close();
