// Two guards: tests run against the TypeScript source (not a stale dist/), and the built dist/
// works with plain node — no tsx, no source condition — including the worker threads (bio and
// the rewrite writer), which resolve their .js files next to the built modules.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as engineModule from '@aofkv/engine';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

describe('build guards', () => {
  it('tests import the engine from src/*.ts, not from dist/', () => {
    // Vitest resolves the workspace package through the @aofkv/source condition to the source;
    // without ssr.resolve.conditions it would silently load yesterday's dist/.
    expect(engineModule.engineModuleUrl).toMatch(/\/packages\/engine\/src\/index\.ts$/);
  });

  it(
    'the built dist/ runs an engine, a rewrite on the ' +
      'writer thread and a reload with plain node',
    () => {
      execFileSync(
        process.execPath,
        [join(root, 'node_modules/typescript/bin/tsc'), '-b', join(root, 'packages/engine')],
        {
          cwd: root,
          stdio: 'pipe',
        },
      );
      const dir = mkdtempSync(join(tmpdir(), 'aofkv-dist-'));
      try {
        const script =
          `
        import { openEngine } from '@aofkv/engine';
        const e = await openEngine({ dir: ${JSON.stringify(dir)}, appendfsync: 'always' });
        const db = e.db(0);
        for (let i = 0; i < 500; i++) await db.set('k' + i, 'v' + i);
        await db.command('bgrewriteaof');
        await e.aof.waitForRewrite();
        const status = e.aof.info().aof_last_bgrewrite_status;
        await e.close();
        const again = await openEngine({ dir: ${JSON.stringify(dir)} });
        console.log(JSON.stringify({ status, size: await again.db(0).dbsize(), ` +
          `v: await again.db(0).get('k499') }));
        await again.close();
      `;
        const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
          cwd: join(root, 'packages/bench'), // a package that depends on @aofkv/engine
          encoding: 'utf8',
          env: { ...process.env, NODE_OPTIONS: '' },
        });
        expect(r.stderr).toBe('');
        expect(JSON.parse(r.stdout.trim())).toEqual({ status: 'ok', size: 500, v: 'v499' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('the built dist/ serves a worker thread through @aofkv/engine/worker', () => {
    execFileSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-b', join(root, 'packages/engine')],
      { cwd: root, stdio: 'pipe' },
    );
    const dir = mkdtempSync(join(tmpdir(), 'aofkv-dist-worker-'));
    try {
      // The eval'd worker inherits --input-type=module: an ES module.
      const worker = `
        import { workerData, parentPort } from 'node:worker_threads';
        import { connectEngine } from '@aofkv/engine/worker';
        const db = connectEngine(workerData.port).db(0);
        await db.set('from-worker', 'yes');
        parentPort.postMessage(await db.incrby('n', 2));
      `;
      const script = `
        import { Worker } from 'node:worker_threads';
        import { openEngine } from '@aofkv/engine';
        const e = await openEngine({ dir: ${JSON.stringify(dir)}, appendfsync: 'always' });
        const port = e.connectWorker();
        const w = new Worker(${JSON.stringify(worker)}, {
          eval: true, workerData: { port }, transferList: [port],
        });
        const n = await new Promise((resolve) => w.once('message', resolve));
        await w.terminate();
        console.log(JSON.stringify({ n, v: await e.db(0).get('from-worker') }));
        await e.close();
      `;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: join(root, 'packages/bench'),
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout.trim())).toEqual({ n: 2, v: 'yes' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
