import fs from 'node:fs';
import path from 'node:path';
import { openEngine } from '@aofkv/engine';
import { copyDataset } from '../src/scenarios/dataset.ts';
const ds = JSON.parse(fs.readFileSync('/tmp/rwexp/ds.json', 'utf8'));
for (let i = 0; i < 2; i++) {
  const dir = '/tmp/loadexp'; fs.rmSync(dir, { recursive: true, force: true }); copyDataset(ds, dir);
  const t = performance.now();
  const e = await openEngine({ dir, autoAofRewritePercentage: 0 });
  const ms = performance.now() - t;
  console.log('load', (ds.aofBytes / 1e6 / (ms / 1000)).toFixed(1), 'MB/s');
  await e.close();
  (globalThis as any).gc?.();
}
