import { describe, expect, it } from 'vitest';
import { AofBuffer, AOF_BUF_REUSE_LIMIT_BYTES, encodeCommand } from '../../src/aof/aof-buffer.ts';

describe('aof_buf: RESP encoding (Redis catAppendOnlyGenericCommand)', () => {
  it('encodes a command as a RESP array of bulk strings', () => {
    expect(encodeCommand(['SET', 'k', 'v']).toString('latin1')).toBe(
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n',
    );
  });

  it('is binary safe: CR, LF, NUL and bytes ≥ 0x80 pass through unchanged', () => {
    const arg = '\r\n\x00\xff\x80é';
    const out = encodeCommand(['set', arg, '']);
    expect(out.toString('latin1')).toBe(
      `*3\r\n$3\r\nset\r\n$${arg.length}\r\n${arg}\r\n$0\r\n\r\n`,
    );
    expect(out.includes(Buffer.from([0xff, 0x80]))).toBe(true);
  });

  it('encodes long arguments and multi-digit lengths', () => {
    const big = 'x'.repeat(123456);
    const out = encodeCommand(['SET', 'k', big]).toString('latin1');
    const prefix = '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$123456\r\n';
    expect(out.startsWith(prefix)).toBe(true);
    expect(out.length).toBe(prefix.length + big.length + 2);
    expect(out.endsWith('x\r\n')).toBe(true);
    const argv = Array.from({ length: 12 }, (_, i) => String(i));
    expect(encodeCommand(argv).toString('latin1').startsWith('*12\r\n$1\r\n0\r\n')).toBe(true);
  });

  it('grows across many appends and keeps every byte', () => {
    const b = new AofBuffer(16);
    let expected = '';
    for (let i = 0; i < 500; i++) {
      b.appendCommand(['INCR', `key:${i}`]);
      expected += `*2\r\n$4\r\nINCR\r\n$${`key:${i}`.length}\r\nkey:${i}\r\n`;
    }
    expect(b.view().toString('latin1')).toBe(expected);
  });

  it(
    'keeps a small allocation after a write and ' +
      "drops a large one (Redis's rule, 64 KiB limit)",
    () => {
      const b = new AofBuffer();
      b.appendCommand(['SET', 'k', 'v']);
      const small = b.capacity;
      expect(small).toBeLessThan(AOF_BUF_REUSE_LIMIT_BYTES);
      b.resetAfterWrite();
      expect(b.capacity).toBe(small);
      b.appendCommand(['SET', 'k', 'v'.repeat(100_000)]);
      expect(b.capacity).toBeGreaterThanOrEqual(AOF_BUF_REUSE_LIMIT_BYTES);
      b.resetAfterWrite();
      expect(b.length).toBe(0);
      expect(b.capacity).toBeLessThan(AOF_BUF_REUSE_LIMIT_BYTES);
    },
  );

  it('consume() drops a written prefix and keeps the rest', () => {
    const b = new AofBuffer();
    b.appendRaw('abcdef');
    b.consume(4);
    expect(b.view().toString()).toBe('ef');
  });
});
