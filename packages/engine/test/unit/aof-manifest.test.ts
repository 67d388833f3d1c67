import { describe, expect, it } from 'vitest';
import {
  AofManifest,
  ManifestError,
  newBaseFile,
  newIncrFile,
  parseManifest,
} from '../../src/aof/aof-manifest.ts';

function reason(text: string): string {
  try {
    parseManifest(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    return (err as ManifestError).reason;
  }
  throw new Error('manifest was accepted');
}

describe('aof manifest: reader (Redis aofLoadManifestFromFile)', () => {
  it('loads base, history and incr lines in any order and sets the sequence counters', () => {
    const m = parseManifest(
      'file appendonly.aof.2.incr.aof seq 2 type i\n' +
        'file appendonly.aof.1.base.aof seq 1 type h\n' +
        'file appendonly.aof.3.base.rdb seq 3 type b\n' +
        'file appendonly.aof.3.incr.aof seq 3 type i\n',
    );
    expect(m.base?.fileName).toBe('appendonly.aof.3.base.rdb');
    expect(m.currBaseFileSeq).toBe(3);
    expect(m.currIncrFileSeq).toBe(3);
    expect(m.incrList.map((i) => i.fileSeq)).toEqual([2, 3]);
    expect(m.historyList.map((h) => h.fileName)).toEqual(['appendonly.aof.1.base.aof']);
  });

  it('accepts comments, CRLF endings, upper-case keys, unknown keys and "type incr"', () => {
    const m = parseManifest(
      '# a comment\r\nFILE a.1.base.aof SEQ 1 TYPE base newkey newvalue\r\n' +
        'file "a b.1.incr.aof" Seq 1 type incr\r\n',
    );
    expect(m.base?.fileName).toBe('a.1.base.aof');
    expect(m.incrList[0]?.fileName).toBe('a b.1.incr.aof');
  });

  it('treats a comments-only manifest as "no AOF files" but a 0-byte one as fatal', () => {
    expect(parseManifest('# only a comment\n').isEmpty).toBe(true);
    expect(reason('')).toBe('Found an empty AOF manifest');
  });

  it('rejects every malformed manifest with Redis’s reason', () => {
    expect(reason('file a seq 1 type i\n\nfile b seq 2 type i\n')).toBe(
      'Invalid AOF manifest file format',
    );
    expect(reason('file a seq 1 type b\nfile b seq 2 type b\n')).toBe(
      'Found duplicate base file information',
    );
    expect(reason('file a seq 2 type i\nfile b seq 1 type i\n')).toBe(
      'Found a non-monotonic sequence number',
    );
    expect(reason('file a seq 1 type x\n')).toBe('Unknown AOF file type');
    expect(reason('filx a seq 1 type i\n')).toBe('Invalid AOF manifest file format');
    expect(reason('file a type i\n')).toBe('Invalid AOF manifest file format');
    expect(reason('file a seq 1 type i newkey\n')).toBe('Invalid AOF manifest file format');
    expect(reason('file a seq 0 type i\n')).toBe('Invalid AOF manifest file format');
    expect(reason('file a seq abc type i\n')).toBe('Invalid AOF manifest file format');
    expect(reason('file "unbalanced seq 1 type i\n')).toBe('Invalid AOF manifest file format');
    expect(reason(`file ${'x'.repeat(1100)} seq 1 type i\n`)).toBe(
      'The AOF manifest file contains too long line',
    );
    expect(reason('file a seq 1 type i')).toBe('The AOF manifest file contains too long line');
    expect(reason('file ../etc/passwd seq 1 type i\n')).toBe(
      "File can't be a path, just a filename",
    );
    expect(reason('file a\\b seq 1 type i\n')).toBe("File can't be a path, just a filename");
  });

  it('accepts `file ""` as Redis does (its check is for a missing key, not an empty name)', () => {
    // Redis aofLoadManifestFromFile tests `!ai->file_name`, a NULL pointer: an empty sds passes,
    // and so does pathIsBaseName(""). Loading then fails on the file (test/integration/
    // manifest-empty-name.test.ts).
    const m = parseManifest('file "" seq 1 type b\nfile "" seq 2 type h\nfile "" seq 1 type i\n');
    expect(m.base).toEqual({ fileName: '', fileSeq: 1, fileType: 'b' });
    expect(m.historyList).toEqual([{ fileName: '', fileSeq: 2, fileType: 'h' }]);
    expect(m.incrList).toEqual([{ fileName: '', fileSeq: 1, fileType: 'i' }]);
  });

  it('reports the 1-based line number of the offending line', () => {
    try {
      parseManifest('# c\nfile a seq 1 type i\nfile b seq 1 type i\n');
      expect.unreachable();
    } catch (err) {
      expect((err as ManifestError).lineNumber).toBe(3);
    }
  });
});

describe('aof manifest: writer (Redis getAofManifestAsString)', () => {
  it('writes base, then history, then incr, one `file … seq … type …` line each', () => {
    const m = new AofManifest();
    const names = { aofDir: '/x', fileName: 'appendonly.aof' };
    newBaseFile(m, names, true);
    newIncrFile(m, names);
    newBaseFile(m, names, false);
    newIncrFile(m, names);
    expect(m.toString()).toBe(
      'file appendonly.aof.2.base.aof seq 2 type b\n' +
        'file appendonly.aof.1.base.rdb seq 1 type h\n' +
        'file appendonly.aof.1.incr.aof seq 1 type i\n' +
        'file appendonly.aof.2.incr.aof seq 2 type i\n',
    );
  });

  it('never names a file with a sequence number a manifest in doubt may hold', () => {
    const m = new AofManifest();
    const names = { aofDir: '/x', fileName: 'appendonly.aof' };
    // The manifest in memory says 0, but a manifest in doubt on disk may list seq 2.
    expect(newIncrFile(m, names, 2).fileName).toBe('appendonly.aof.3.incr.aof');
    expect(newBaseFile(m, names, true, 4).fileName).toBe('appendonly.aof.5.base.rdb');
    expect(newIncrFile(m, names, 0).fileName).toBe('appendonly.aof.4.incr.aof');
  });

  it(
    'quotes and escapes names with spaces and specials exactly as Redis ' +
      '(test "appendfilename contains whitespaces")',
    () => {
      const m = new AofManifest();
      const names = { aofDir: '/x', fileName: ' file seq \n\n.aof ' };
      m.currBaseFileSeq = 1;
      newBaseFile(m, names, true);
      expect(m.toString()).toBe('file " file seq \\n\\n.aof .2.base.rdb" seq 2 type b\n');
      expect(parseManifest(m.toString()).base?.fileName).toBe(' file seq \n\n.aof .2.base.rdb');
    },
  );

  it('quotes an empty name, so the line it writes has six tokens and reads back', () => {
    // Redis 7.0.15 writes `file  seq 5 type h` (sdsneedsrepr("") is false), which its own reader
    // then refuses as "Invalid AOF manifest file format" (seen with aof-disable-auto-gc yes and a
    // BGREWRITEAOF). `file "" ...` is what both readers accept.
    const text = 'file "" seq 5 type h\nfile appendonly.aof.1.incr.aof seq 1 type i\n';
    const m = parseManifest(text);
    expect(m.toString()).toBe(text);
    expect(parseManifest(m.toString()).historyList[0]?.fileName).toBe('');
  });
});
