// The published shape: `pnpm pack` the engine and bio-workers packages, install the tarballs into
// an empty project with npm, and run `npx aofkv server | shell | dump | check-aof` there. The bin
// must be the compiled dist/cli/main.js run by plain node (the project has no tsx).
//
// Installing needs the packages' third-party dependencies (piscina, msgpackr, cli-progress) from
// the npm registry or npm's cache; without either the test is skipped with the reason.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RawClient, resp } from '../net/net-helpers.ts';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'aofkv-packed-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: readonly string[], cwd: string) {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
}

describe('the packed engine exposes the aofkv bin', () => {
  it('npx aofkv server | shell | dump | check-aof run after npm i', async (ctx) => {
    const packs = join(work, 'packs');
    for (const pkg of ['bio-workers', 'engine']) {
      execFileSync('pnpm', ['pack', '--pack-destination', packs], {
        cwd: join(root, 'packages', pkg),
        stdio: 'pipe',
      });
    }
    const tarballs = readdirSync(packs).map((f) => join(packs, f));
    expect(tarballs).toHaveLength(2);
    const app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true }\n');
    const install = run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs],
      app,
    );
    if (install.status !== 0) {
      ctx.skip(`npm install of the tarballs failed (no registry?): ${install.stderr.slice(-300)}`);
    }
    expect(existsSync(join(app, 'node_modules/tsx'))).toBe(false);

    const help = run('npx', ['--no-install', 'aofkv', '--help'], app);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('server');

    // server: serve, write through the network, SHUTDOWN, exit 0.
    const data = join(app, 'data');
    const server = spawn('npx', ['--no-install', 'aofkv', 'server', '--dir', data, '--port', '0'], {
      cwd: app,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let log = '';
    const port = await new Promise<number>((resolve, reject) => {
      server.stderr.on('data', (chunk: Buffer) => {
        log += chunk.toString('utf8');
        const m = /ready to accept connections on 127\.0\.0\.1:(\d+)/.exec(log);
        if (m !== null) resolve(Number(m[1]));
      });
      server.once('exit', (code) => reject(new Error(`server exited ${code}: ${log}`)));
    });
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    const c = await RawClient.connect(port);
    expect(await c.exchange(resp('SET', 'packed', 'yes'), '+OK\r\n')).toBe('+OK\r\n');
    c.send(resp('SHUTDOWN'));
    await c.untilClosed();
    expect(await exited).toBe(0);

    // shell (piped), dump and check-aof on the same data directory.
    const shell = spawnSync('npx', ['--no-install', 'aofkv', 'shell', '--dir', data], {
      cwd: app,
      input: 'GET packed\n',
      encoding: 'utf8',
    });
    expect(shell.stdout).toBe('yes\n');
    const dump = run('npx', ['--no-install', 'aofkv', 'dump', '--dir', data], app);
    expect(dump.status).toBe(0);
    expect(JSON.parse(dump.stdout).dbs['0']).toEqual([
      { key: 'packed', type: 'string', value: 'yes', expire_ms: null },
    ]);
    const manifest = join(data, 'appendonlydir/appendonly.aof.manifest');
    const check = run('npx', ['--no-install', 'aofkv', 'check-aof', manifest], app);
    expect(check.status).toBe(0);
    expect(check.stdout).toContain('All AOF files and manifest are valid');
  }, 240_000);
});
