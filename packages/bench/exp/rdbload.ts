import fs from 'node:fs';
import path from 'node:path';
import { openEngine, NodeFileSystem } from '@aofkv/engine';
import { writeRdbSnapshot } from '@aofkv/engine/testing';
import { copyDataset } from '../src/scenarios/dataset.ts';
const ds = JSON.parse(fs.readFileSync('/tmp/rwexp/ds.json', 'utf8'));
const rdbDir = '/tmp/rdbexp';
if (!fs.existsSync(rdbDir + '/appendonlydir/appendonly.aof.manifest')) {
  const src = '/tmp/rdbsrc'; fs.rmSync(src, { recursive: true, force: true }); copyDataset(ds, src);
  const e = await openEngine({ dir: src, readOnly: true });
  fs.mkdirSync(rdbDir + '/appendonlydir', { recursive: true });
  const nfs = new NodeFileSystem();
  const fd = nfs.open(rdbDir + '/appendonlydir/appendonly.aof.1.base.rdb', 'write-truncate');
  writeRdbSnapshot(nfs, fd, e.server.dbs, { aofBase: true, ctimeSec: 1 });
  nfs.close(fd);
  fs.writeFileSync(rdbDir + '/appendonlydir/appendonly.aof.manifest', 'file appendonly.aof.1.base.rdb seq 1 type b\n');
  await e.close();
}
const bytes = fs.statSync(rdbDir + '/appendonlydir/appendonly.aof.1.base.rdb').size;
for (let i = 0; i < 2; i++) {
  const t = performance.now();
  const e = await openEngine({ dir: rdbDir, readOnly: true });
  const ms = performance.now() - t;
  console.log('rdb load', (bytes / 1e6 / (ms / 1000)).toFixed(1), 'MB/s', ms.toFixed(0), 'ms');
  await e.close();
}
