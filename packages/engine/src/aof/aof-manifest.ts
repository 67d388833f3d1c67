// DESIGN: the multi-part AOF manifest of Redis 7.0 (aof.c aofManifest): which file is the BASE,
// which are INCRs (in load order) and which are HISTORY (to be deleted). The text format, the
// strict reader and its messages, the quoting of odd file names and the atomic persistence
// (temp file, fsync, rename, fsync of the directory) follow spec §1.4–§1.5 rule for rule.
// Callers never edit the live manifest in place: they clone(), change the copy, persist it, and
// only then adopt it (Redis aofManifestDup), so memory never runs ahead of the disk.

import { posix as path } from 'node:path';
import { EngineError } from '../errors.ts';
import type { FileSystem } from '../io/file-system.ts';
import { sdsCatRepr, sdsSplitArgs } from '../sds-split-args.ts';

export type AofFileType = 'b' | 'h' | 'i';

export interface AofInfo {
  readonly fileName: string;
  readonly fileSeq: number;
  fileType: AofFileType;
}

/** Redis MANIFEST_MAX_LINE: fgets reads at most 1024 bytes, so a line holds 1023 + '\n'. */
const MANIFEST_MAX_LINE_BYTES = 1024;

export class AofManifest {
  base: AofInfo | null = null;
  incrList: AofInfo[] = [];
  historyList: AofInfo[] = [];
  currBaseFileSeq = 0;
  currIncrFileSeq = 0;
  dirty = false;

  clone(): AofManifest {
    const m = new AofManifest();
    m.base = this.base === null ? null : { ...this.base };
    m.incrList = this.incrList.map((i) => ({ ...i }));
    m.historyList = this.historyList.map((i) => ({ ...i }));
    m.currBaseFileSeq = this.currBaseFileSeq;
    m.currIncrFileSeq = this.currIncrFileSeq;
    m.dirty = this.dirty;
    return m;
  }

  /** No base and no INCR: Redis treats this as "no AOF" (AOF_NOT_EXIST). */
  get isEmpty(): boolean {
    return this.base === null && this.incrList.length === 0;
  }

  /** Files to load, in order: the base, then every INCR. */
  loadOrder(): AofInfo[] {
    return this.base === null ? [...this.incrList] : [this.base, ...this.incrList];
  }

  /** Redis getAofManifestAsString: base, then history, then incr lines. */
  toString(): string {
    let out = '';
    if (this.base !== null) out += formatLine(this.base);
    for (const h of this.historyList) out += formatLine(h);
    for (const i of this.incrList) out += formatLine(i);
    return out;
  }
}

/**
 * Redis sdsneedsrepr: a name with specials or spaces is written quoted with C escapes. Unlike
 * Redis, an empty name is quoted too: Redis writes `file  seq 5 type h` for it, a line of five
 * tokens that its own reader then refuses; `file "" seq 5 type h` reads back.
 */
function needsRepr(name: string): boolean {
  if (name.length === 0) return true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x5c || c === 0x22 || c <= 0x20 || c >= 0x7f) return true;
  }
  return false;
}

function formatLine(info: AofInfo): string {
  const name = needsRepr(info.fileName) ? sdsCatRepr(info.fileName) : info.fileName;
  return `file ${name} seq ${info.fileSeq} type ${info.fileType}\n`;
}

/** C atoll: optional spaces and sign, then digits up to the first non-digit; 0 if none. */
function atoll(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m === null ? 0 : Number(m[1]);
}

export class ManifestError extends EngineError {
  readonly lineNumber: number;
  readonly line: string;
  readonly reason: string;
  constructor(reason: string, lineNumber: number, line: string, manifestPath: string) {
    super(
      'ERR_AOF_MANIFEST',
      `Bad AOF manifest ${manifestPath}: ${reason}` +
        (lineNumber > 0 ? ` (line ${lineNumber}: ${JSON.stringify(line)})` : '') +
        '. Fix or restore the manifest; aofkv will not start with it.',
    );
    this.reason = reason;
    this.lineNumber = lineNumber;
    this.line = line;
  }
}

/** Redis aofLoadManifestFromFile: the strict reader. `text` is the file as a Bin string. */
export function parseManifest(text: string, manifestPath = 'manifest'): AofManifest {
  const m = new AofManifest();
  let lineNumber = 0;
  let maxIncrSeq = 0;
  let pos = 0;
  const fail = (reason: string, line = ''): never => {
    throw new ManifestError(reason, lineNumber, line, manifestPath);
  };
  if (text.length === 0) fail('Found an empty AOF manifest');
  while (pos < text.length) {
    // fgets semantics: read up to '\n' or at most MAX-1... here MAX bytes of content.
    const nl = text.indexOf('\n', pos);
    const end = nl === -1 ? text.length : Math.min(nl + 1, pos + MANIFEST_MAX_LINE_BYTES);
    const chunkEnd = Math.min(end, pos + MANIFEST_MAX_LINE_BYTES);
    const raw = text.slice(pos, chunkEnd);
    pos = chunkEnd;
    lineNumber++;
    if (raw.startsWith('#')) continue; // comments count as lines but are skipped
    if (!raw.includes('\n')) fail('The AOF manifest file contains too long line', raw);
    const line = raw.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
    if (line.length === 0) fail('Invalid AOF manifest file format', line);
    const argv = sdsSplitArgs(line);
    if (argv === null || argv.length < 6 || argv.length % 2 !== 0)
      fail('Invalid AOF manifest file format', line);
    let fileName: string | null = null;
    let fileSeq = 0;
    let fileType = '';
    for (let i = 0; i < argv!.length; i += 2) {
      const key = argv![i]!.toLowerCase();
      const value = argv![i + 1]!;
      if (key === 'file') {
        fileName = value;
        // Redis refuses '/' and '\\'; '.' and '..' would name a directory, so we refuse them too.
        if (
          fileName.includes('/') ||
          fileName.includes('\\') ||
          fileName === '.' ||
          fileName === '..'
        ) {
          fail("File can't be a path, just a filename", line);
        }
      } else if (key === 'seq') {
        fileSeq = atoll(value);
      } else if (key === 'type') {
        fileType = value.slice(0, 1);
      } // unknown keys are ignored for forward compatibility
    }
    // Redis checks that the key was given (a NULL pointer), not that the name is non-empty:
    // `file ""` parses, and loading then finds no such file.
    if (fileName === null || fileSeq === 0 || fileType === '') {
      fail('Invalid AOF manifest file format', line);
    }
    const info = { fileName: fileName!, fileSeq, fileType: fileType as AofFileType };
    if (fileType === 'b') {
      if (m.base !== null) fail('Found duplicate base file information', line);
      m.base = info;
      m.currBaseFileSeq = fileSeq;
    } else if (fileType === 'h') {
      m.historyList.push(info);
    } else if (fileType === 'i') {
      if (fileSeq <= maxIncrSeq) fail('Found a non-monotonic sequence number', line);
      m.incrList.push(info);
      m.currIncrFileSeq = fileSeq;
      maxIncrSeq = fileSeq;
    } else {
      fail('Unknown AOF file type', line);
    }
  }
  return m;
}

export interface AofNames {
  /** <dir>/<appenddirname> */
  readonly aofDir: string;
  /** appendfilename */
  readonly fileName: string;
}

export const manifestName = (n: AofNames): string => `${n.fileName}.manifest`;
export const tempManifestName = (n: AofNames): string => `temp-${n.fileName}.manifest`;
export const tempIncrName = (n: AofNames): string => `temp-${n.fileName}.incr`;

/**
 * Redis getNewBaseFileNameAndMarkPreAsHistory: retire the base, name the next one. `usedSeq`: the
 * highest base sequence number a manifest in doubt may hold (see nextFreeName).
 */
export function newBaseFile(m: AofManifest, n: AofNames, rdb: boolean, usedSeq = 0): AofInfo {
  if (m.base !== null) {
    m.base.fileType = 'h';
    m.historyList.unshift(m.base);
  }
  const fileName = nextFreeName(
    m,
    (seq) => `${n.fileName}.${seq}.base.${rdb ? 'rdb' : 'aof'}`,
    'currBaseFileSeq',
    usedSeq,
  );
  const info: AofInfo = { fileName, fileSeq: m.currBaseFileSeq, fileType: 'b' };
  m.base = info;
  m.dirty = true;
  return info;
}

/** Redis getNewIncrAofName; `usedSeq` as for newBaseFile. */
export function newIncrFile(m: AofManifest, n: AofNames, usedSeq = 0): AofInfo {
  const fileName = nextFreeName(
    m,
    (seq) => `${n.fileName}.${seq}.incr.aof`,
    'currIncrFileSeq',
    usedSeq,
  );
  const info: AofInfo = { fileName, fileSeq: m.currIncrFileSeq, fileType: 'i' };
  m.incrList.push(info);
  m.dirty = true;
  return info;
}

/**
 * Redis getNewBaseFileNameAndMarkPreAsHistory / getNewIncrAofName: the next sequence number.
 * Deviation: a number whose name a history entry still holds is skipped. Redis derives
 * curr_incr_file_seq from the INCR lines only, so once every INCR became history and the
 * process restarted before the history was deleted, the next INCR gets the name of a history
 * file, which the history deletion then unlinks: the new INCR, with every write since.
 * Deviation too: a number at or below `usedSeq` is skipped. When a persist failed after its rename
 * and the old manifest could not be written back, the manifest on disk (in doubt) may name files
 * the manifest in memory does not; handing out their names again would rename a newer file over
 * one that manifest names (or unlink it on the failure path), and a crash that brings that
 * manifest back would load the wrong content. Otherwise the numbers are Redis's.
 */
function nextFreeName(
  m: AofManifest,
  name: (seq: number) => string,
  counter: 'currBaseFileSeq' | 'currIncrFileSeq',
  usedSeq: number,
): string {
  if (m[counter] < usedSeq) m[counter] = usedSeq;
  for (;;) {
    const candidate = name(++m[counter]);
    if (!m.historyList.some((h) => h.fileName === candidate)) return candidate;
  }
}

export function loadManifestFromDisk(fs: FileSystem, n: AofNames): AofManifest {
  if (fs.stat(n.aofDir) === null) return new AofManifest();
  const p = path.join(n.aofDir, manifestName(n));
  if (fs.stat(p) === null) return new AofManifest();
  return parseManifest(fs.readFile(p).toString('latin1'), p);
}

/**
 * Redis persistAofManifest / writeAofManifestFile: temp file, write, fdatasync, rename over the
 * manifest, fsync the directory. Throws the file-system error; `dirty` is cleared only on success.
 */
export function persistManifest(fs: FileSystem, n: AofNames, m: AofManifest): void {
  if (!m.dirty) return;
  const tmp = path.join(n.aofDir, tempManifestName(n));
  const bytes = Buffer.from(m.toString(), 'latin1');
  const fd = fs.open(tmp, 'write-truncate');
  try {
    let off = 0;
    while (off < bytes.length) {
      const written = fs.write(fd, bytes, off, bytes.length - off);
      if (written <= 0)
        throw Object.assign(new Error('short write of the AOF manifest'), { code: 'ENOSPC' });
      off += written;
    }
    fs.fdatasync(fd);
  } finally {
    fs.close(fd);
  }
  fs.rename(tmp, path.join(n.aofDir, manifestName(n)));
  fs.fsyncDir(n.aofDir);
  m.dirty = false;
}
