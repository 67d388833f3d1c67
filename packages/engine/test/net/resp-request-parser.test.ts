// The request parser on its own: commands split anywhere parse the same, random bytes never
// throw, and nothing is allocated by a declared length.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  NEED_MORE,
  ProtocolError,
  RespRequestParser,
  type ParseResult,
} from '../../src/net/resp-request-parser.ts';

function parser(options: { authRequired?: boolean; maxBulk?: number } = {}) {
  return new RespRequestParser({
    protoMaxBulkLen: () => options.maxBulk ?? 512 * 1024 * 1024,
    authRequired: () => options.authRequired === true,
  });
}

function encode(argv: readonly string[]): Buffer {
  let out = `*${argv.length}\r\n`;
  for (const a of argv) out += `$${a.length}\r\n${a}\r\n`;
  return Buffer.from(out, 'latin1');
}

/** Feed `chunks` one by one, collecting every result until the parser needs more. */
function feed(p: RespRequestParser, chunks: readonly Buffer[]): (string[] | string)[] {
  const out: (string[] | string)[] = [];
  for (const chunk of chunks) {
    p.append(chunk);
    for (;;) {
      const r: ParseResult = p.next();
      if (r === NEED_MORE) break;
      if (r instanceof ProtocolError) {
        out.push(r.message);
        return out;
      }
      out.push(r);
    }
  }
  return out;
}

const binArg = fc
  .uint8Array({ maxLength: 40 })
  .map((bytes) => Buffer.from(bytes).toString('latin1'));
const command = fc.array(binArg, { minLength: 1, maxLength: 6 });

function splitAt(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    chunks.push(buf.subarray(last, p));
    last = p;
  }
  chunks.push(buf.subarray(last));
  return chunks;
}

describe('resp request parser', () => {
  it('parses pipelined commands the same however the bytes are split', () => {
    fc.assert(
      fc.property(
        fc.array(command, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat()),
        (cmds, cuts) => {
          const bytes = Buffer.concat(cmds.map(encode));
          expect(feed(parser(), splitAt(bytes, cuts))).toEqual(cmds);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on random bytes and reports at most one protocol error', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        const results = feed(
          parser(),
          chunks.map((c) => Buffer.from(c)),
        );
        const errors = results.filter((r) => typeof r === 'string');
        expect(errors.length).toBeLessThanOrEqual(1);
        for (const e of errors) expect(e).toMatch(/^ERR Protocol error: /);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on RESP-shaped garbage (mutated valid requests)', () => {
    const token = fc.constantFrom('*', '$', '\r\n', '\r', '\n', '-1', '0', '3', '\x00', 'a', '"');
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), (tokens) => {
        const results = feed(parser(), [Buffer.from(tokens.join(''), 'latin1')]);
        for (const r of results) {
          if (typeof r === 'string') expect(r).toMatch(/^ERR Protocol error: /);
          else expect(r.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('does not allocate by a declared bulk length', () => {
    const p = parser();
    p.append(Buffer.from('*1\r\n$500000000\r\nabc', 'latin1'));
    expect(p.next()).toBe(NEED_MORE);
    expect(p.bufferedBytes + p.freeBytes).toBeLessThan(64 * 1024);
  });

  it('grows with what arrives for a large bulk, then shrinks back', () => {
    const p = parser();
    const value = 'v'.repeat(3 * 1024 * 1024);
    const bytes = encode(['SET', 'k', value]);
    let result: ParseResult = NEED_MORE;
    for (let i = 0; i < bytes.length; i += 64 * 1024) {
      p.append(bytes.subarray(i, i + 64 * 1024));
      // Never more than 2x the bytes received so far.
      expect(p.bufferedBytes + p.freeBytes).toBeLessThanOrEqual(2 * (i + 64 * 1024) + 16384);
      result = p.next();
    }
    expect(result).toEqual(['SET', 'k', value]);
    p.shrink();
    expect(p.bufferedBytes + p.freeBytes).toBeLessThanOrEqual(16 * 1024);
  });

  it('applies the unauthenticated limits (10 bulks, 16 KiB per bulk)', () => {
    expect(feed(parser({ authRequired: true }), [Buffer.from('*11\r\n')])).toEqual([
      'ERR Protocol error: unauthenticated multibulk length',
    ]);
    expect(feed(parser({ authRequired: true }), [Buffer.from('*1\r\n$16385\r\n')])).toEqual([
      'ERR Protocol error: unauthenticated bulk length',
    ]);
    expect(feed(parser(), [Buffer.from('*11\r\n')])).toEqual([]);
  });

  it('scans a slowly arriving line once, not once per byte', () => {
    const p = parser();
    const line = `ECHO ${'x'.repeat(60_000)}\r\n`;
    let result: ParseResult = NEED_MORE;
    for (let i = 0; i < line.length; i += 7) {
      p.append(Buffer.from(line.slice(i, i + 7), 'latin1'));
      result = p.next();
    }
    expect(result).toEqual(['ECHO', 'x'.repeat(60_000)]);
  });
});
