import { describe, expect, it } from 'vitest';
import { openEngine, ReplyError } from '@aofkv/engine';

describe('engine basics', () => {
  it('answers PING and ECHO, and refuses unknown commands with the Redis text', async () => {
    const engine = await openEngine({ appendonly: false });
    const db = engine.db(0);
    expect(await db.command('PING')).toBe('PONG');
    expect(await db.command('ECHO', 'héllo')).toBe('héllo');
    await expect(db.command('NOPE', 'a', 'b')).rejects.toThrow(
      "ERR unknown command 'NOPE', with args beginning with: 'a' 'b' ",
    );
    await expect(db.command('PING', 'a', 'b')).rejects.toBeInstanceOf(ReplyError);
    await engine.close();
  });

  it('MULTI queues, EXEC runs, errors while queueing abort with EXECABORT', async () => {
    const engine = await openEngine({ appendonly: false });
    const db = engine.db(0);
    await db.command('MULTI');
    expect(await db.command('PING')).toBe('QUEUED');
    expect(await db.command('EXEC')).toEqual(['PONG']);
    await db.command('MULTI');
    await expect(db.command('ECHO')).rejects.toThrow(
      "ERR wrong number of arguments for 'echo' command",
    );
    await expect(db.command('EXEC')).rejects.toThrow('EXECABORT');
    await engine.close();
  });

  it('a closed engine refuses commands with ERR_ENGINE_CLOSED', async () => {
    const engine = await openEngine({ appendonly: false });
    const db = engine.db(0);
    await engine.close();
    await expect(db.command('PING')).rejects.toMatchObject({ code: 'ERR_ENGINE_CLOSED' });
  });

  it(
    'close() called twice returns the same promise: ' + 'the second caller waits for the first',
    async () => {
      const engine = await openEngine({ appendonly: false });
      const first = engine.close();
      expect(engine.close()).toBe(first);
      await first;
    },
  );

  it('validates options and names the bad one', async () => {
    await expect(openEngine({ appendfsync: 'sometimes' as never })).rejects.toThrow(/appendfsync/);
    await expect(openEngine({ appendfilename: 'a/b' })).rejects.toThrow(/can't be a path/);
    await expect(openEngine({ hz: 0 })).rejects.toThrow(/'hz'/);
  });
});

describe('command lookup (Redis lookupCommand)', () => {
  it(
    'finds a command in any letter case, ' +
      'and keeps answering right past its cache of spellings',
    async () => {
      const e = await openEngine({ appendonly: false });
      const server = e.server;
      expect(server.lookupCommand('SeT')?.name).toBe('set');
      expect(server.lookupCommand('set')).toBe(server.lookupCommand('SET'));
      expect(server.lookupCommand('nosuchcommand')).toBeUndefined();
      // More distinct spellings than are remembered: later ones are looked up without the cache.
      for (let i = 0; i < 5000; i++) expect(server.lookupCommand(`unknown${i}`)).toBeUndefined();
      expect(server.lookupCommand('GeT')?.name).toBe('get');
      expect(server.lookupCommand('unknown4999')).toBeUndefined();
      await expect(e.db(0).command('InCr', 'n')).resolves.toBe(1);
      await e.close();
    },
  );
});
