// DESIGN: `aofkv check-aof`, behaving like redis-check-aof 7.0 (spec §8): detect the input
// (manifest / RDB-preamble / RESP), validate strictly — unlike the loader it checks the CRLF after
// every payload and MULTI/EXEC nesting — print the same lines and summary, and with --fix cut the
// last file back to the last complete command outside a transaction after a [y/N] prompt, or with
// --truncate-to-timestamp T cut it at the first `#TS:` annotation later than T.
// All file access goes through the FileSystem seam; output and the prompt go through CheckIo, so
// tests drive it without a terminal. Reads are chunked (RespFileReader): no allocation is sized by
// a length read from the file before the bytes are known to exist.

import { posix as path } from 'node:path';
import { isKnownFsErrorCode, strerror, type FileSystem } from '../io/file-system.ts';
import { parseManifest, ManifestError, type AofManifest } from './aof-manifest.ts';
import { RespFileReader } from '../io/resp-file-reader.ts';
import { checkRdbPreamble } from '../rdb/rdb-check.ts';

export interface CheckIo {
  out(line: string): void;
  /** Ask the user; resolves with the answer line (or null at end of input). */
  prompt(question: string): Promise<string | null>;
}

/** Ends the check with an exit code (Redis calls exit(1) from deep inside the checker). */
class CheckExit extends Error {
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.exitCode = exitCode;
  }
}

type SingleResult = 'ok' | 'empty' | 'truncated' | 'timestamp-truncated';

interface CheckState {
  fs: FileSystem;
  io: CheckIo;
  fix: boolean;
  /** 0 = not in timestamp mode. */
  toTimestamp: number;
  /** Redis's global `line`: 1-based, counts CRLF-terminated lines consumed, across files. */
  line: number;
  /**
   * Redis 8.4 aof-load-corrupt-tail-max-size for --fix (0 = off: redis-check-aof 7.0, which cuts
   * the last file at its first error wherever it is). When set, a FORMAT error (not a tail cut
   * short by EOF) that starts more than this many bytes before the end of the last file is not a
   * corrupt tail: --fix refuses to cut it, as the loader refuses to load it.
   */
  corruptTailMaxBytes: number;
  /** RDB-preamble checker (rdb/rdb-check.ts checkRdbPreamble); validates and moves past the RDB. */
  checkRdb: ((reader: RespFileReader, fileName: string) => boolean) | null;
}

const USAGE =
  'Usage: aofkv check-aof [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>';

/** Run the checker with redis-check-aof's argument rules; resolves with the exit code. */
export async function checkAof(
  args: readonly string[],
  fs: FileSystem,
  io: CheckIo,
  checkRdb?: CheckState['checkRdb'],
): Promise<number> {
  const state: CheckState = {
    fs,
    io,
    fix: false,
    toTimestamp: 0,
    line: 1,
    corruptTailMaxBytes: 0,
    checkRdb:
      checkRdb ??
      ((reader, fileName) => checkRdbPreamble(reader, fileName, (line) => io.out(line))),
  };
  let filePath: string;
  // `-y` answers the --fix prompt in advance (our addition for scripts); it is not counted as an
  // argument.
  const yes = args.includes('-y') || args.includes('--yes');
  let rest = args.filter((a) => a !== '-y' && a !== '--yes');
  // `--corrupt-tail-max-size N` (our addition, Redis 8.4's rule), also outside redis's counts.
  const tailAt = rest.indexOf('--corrupt-tail-max-size');
  if (tailAt !== -1) {
    const value = rest[tailAt + 1] ?? '';
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
      io.out('Invalid --corrupt-tail-max-size, aborting...');
      return 1;
    }
    state.corruptTailMaxBytes = Number(value);
    rest = rest.filter((_, i) => i !== tailAt && i !== tailAt + 1);
  }
  if (rest.length === 1) filePath = rest[0]!;
  else if (rest.length === 2 && rest[0] === '--fix') {
    state.fix = true;
    filePath = rest[1]!;
  } else if (rest.length === 3 && rest[0] === '--truncate-to-timestamp') {
    if (!/^[+-]?\d+$/.test(rest[1]!)) {
      io.out('Invalid timestamp, aborting...');
      return 1;
    }
    state.toTimestamp = Number(rest[1]);
    filePath = rest[2]!;
  } else {
    io.out(USAGE);
    return 1;
  }
  const answerYes = async (question: string): Promise<string> => {
    io.out(`${question}y`);
    return 'y';
  };
  const effectiveIo: CheckIo = yes ? { out: io.out, prompt: answerYes } : io;
  state.io = effectiveIo;
  try {
    const type = inputFileType(state, filePath);
    if (type === 'manifest') await checkMultiPart(state, path.dirname(filePath), filePath);
    else await checkOldStyle(state, filePath, type === 'rdb');
    return 0;
  } catch (err) {
    if (err instanceof CheckExit) return err.exitCode;
    throw err;
  }
}

function exit(code: number): never {
  throw new CheckExit(code);
}

function openOrExit(state: CheckState, filePath: string, mode: 'read' | 'read-write'): number {
  try {
    return state.fs.open(filePath, mode);
  } catch (err) {
    state.io.out(`Cannot open file ${filePath}: ${describe(err)}, aborting...`);
    exit(1);
  }
}

/** strerror(errno), as redis-check-aof prints it; the message of anything else. */
function describe(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  if (isKnownFsErrorCode(code)) return strerror(code);
  return err instanceof Error ? err.message : String(err);
}

/**
 * Redis makePath: "<dir>/<name>". A manifest may name `file ""` (the reader accepts it, as
 * Redis's does); the path is then "<dir>/", the directory, and the check fails to open it.
 */
function makePath(dirPath: string, fileName: string): string {
  return `${dirPath}/${fileName}`;
}

/** Redis getInputFileType: manifest if a non-comment line starts with "file", else RDB by magic. */
function inputFileType(state: CheckState, filePath: string): 'manifest' | 'rdb' | 'resp' {
  const st = state.fs.stat(filePath);
  if (st === null) {
    state.io.out(`Cannot open file ${filePath}: No such file or directory`);
    exit(1);
  }
  if (st.sizeBytes === 0) return 'resp';
  const fd = openOrExit(state, filePath, 'read');
  try {
    const reader = new RespFileReader(state.fs, fd, st.sizeBytes);
    const head = reader.readExact(Math.min(5, st.sizeBytes));
    if (st.sizeBytes >= 8 && head !== null && head.toString('latin1') === 'REDIS') return 'rdb';
    reader.position = 0;
    for (let line = reader.readLine(); line !== null; line = reader.readLine()) {
      if (line[0] === 35) continue;
      if (line.subarray(0, 4).toString('latin1') === 'file') return 'manifest';
    }
    return 'resp';
  } finally {
    state.fs.close(fd);
  }
}

async function checkMultiPart(
  state: CheckState,
  dirPath: string,
  manifestPath: string,
): Promise<void> {
  state.io.out('Start checking Multi Part AOF');
  let manifest: AofManifest;
  try {
    manifest = parseManifest(state.fs.readFile(manifestPath).toString('latin1'), manifestPath);
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    printManifestError(state, err);
    exit(1);
  }
  const files = manifest.loadOrder();
  let index = 0;
  if (manifest.base !== null) {
    const name = manifest.base.fileName;
    const filePath = makePath(dirPath, name);
    const isLast = ++index === files.length;
    const rdb = fileIsRdb(state, filePath);
    state.io.out(`Start to check BASE AOF (${rdb ? 'RDB' : 'RESP'} format).`);
    printResult(state, await checkSingle(state, name, filePath, isLast, rdb), name, 'BASE AOF');
  }
  if (manifest.incrList.length > 0) {
    state.io.out('Start to check INCR files.');
    for (const incr of manifest.incrList) {
      const filePath = makePath(dirPath, incr.fileName);
      const isLast = ++index === files.length;
      printResult(
        state,
        await checkSingle(state, incr.fileName, filePath, isLast, false),
        incr.fileName,
        'INCR AOF',
      );
    }
  }
  state.io.out('All AOF files and manifest are valid');
}

/**
 * Redis aofLoadManifestFromFile's loaderr block, printed through serverLog as redis-check-aof
 * does: `<pid>:C <date> # <message>` lines; the line number and text only when a line was read.
 */
function printManifestError(state: CheckState, err: ManifestError): void {
  const log = (message: string) => state.io.out(`${logPrefix()}${message}`);
  log('\n*** FATAL AOF MANIFEST FILE ERROR ***\n');
  if (
    err.lineNumber > 0 &&
    !err.reason.includes('too long line') &&
    !err.reason.includes('empty AOF manifest')
  ) {
    log(`Reading the manifest file, at line ${err.lineNumber}\n`);
    log(`>>> '${err.line}'\n`);
  }
  log(`${err.reason}\n`);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** serverLogRaw's prefix: pid, role C, "%d %b %Y %H:%M:%S.%03d", level # (warning). */
function logPrefix(): string {
  const d = new Date();
  const two = (n: number) => String(n).padStart(2, '0');
  const date =
    `${two(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.` +
    `${String(d.getMilliseconds()).padStart(3, '0')}`;
  return `${process.pid}:C ${date} # `;
}

async function checkOldStyle(
  state: CheckState,
  filePath: string,
  preamble: boolean,
): Promise<void> {
  state.io.out('Start checking Old-Style AOF');
  printResult(state, await checkSingle(state, filePath, filePath, true, preamble), filePath, 'AOF');
}

function fileIsRdb(state: CheckState, filePath: string): boolean {
  const st = state.fs.stat(filePath);
  if (st === null) {
    state.io.out(`Cannot open file ${filePath}: No such file or directory`);
    exit(1);
  }
  // A directory (`file ""`): Redis's fread of its signature fails, so it is "not RDB".
  if (st.sizeBytes < 8 || st.isDirectory) return false;
  const fd = openOrExit(state, filePath, 'read');
  try {
    const head = new RespFileReader(state.fs, fd, st.sizeBytes).readExact(5);
    return head !== null && head.toString('latin1') === 'REDIS';
  } finally {
    state.fs.close(fd);
  }
}

function printResult(state: CheckState, result: SingleResult, name: string, kind: string): void {
  switch (result) {
    case 'ok':
      state.io.out(`${kind} ${name} is valid`);
      break;
    case 'empty':
      state.io.out(`${kind} ${name} is empty`);
      break;
    case 'timestamp-truncated':
      state.io.out(`Successfully truncated AOF ${name} to timestamp ${state.toTimestamp}`);
      break;
    case 'truncated':
      state.io.out(`Successfully truncated AOF ${name}`);
      break;
  }
}

/** Per-file scan state: the error text (Redis's global `error`) and where it happened. */
interface Scan {
  reader: RespFileReader;
  error: string;
  /** Redis `epos`: position of the read that failed. */
  errorPos: number;
  multi: number;
  /**
   * Bytes of readLong's 128-byte line buffer as the previous call left them. Redis reads each
   * `*N` / `$N` line into the same stack buffer; when a truncated line is shorter, its CRLF check
   * reads past the string's NUL into what the previous line left there, and redis-check-aof prints
   * those bytes ("Expected \r\n, got: 000d"). Observed on 7.0.15: for `*` lines the bytes of the
   * previous `*` line are still there; for `$` lines the area was overwritten with zeros by the
   * reads in between. We reproduce that so our messages are byte-identical.
   */
  starLineBuffer: string;
}

function setError(scan: Scan, message: string): void {
  scan.error = `0x${scan.errorPos.toString(16).padStart(16, ' ')}: ${message}`;
}

/** Redis checkSingleAof. */
async function checkSingle(
  state: CheckState,
  name: string,
  filePath: string,
  isLast: boolean,
  preamble: boolean,
): Promise<SingleResult> {
  const fd = openOrExit(state, filePath, 'read-write');
  try {
    const size = state.fs.fileSize(fd);
    if (size === 0) return 'empty';
    const scan: Scan = {
      reader: new RespFileReader(state.fs, fd, size),
      error: '',
      errorPos: 0,
      multi: 0,
      starLineBuffer: '',
    };
    if (preamble) checkPreamble(state, scan, name);
    let pos = scan.reader.position;
    /** Where a FORMAT error starts (null: none, or the file just ends too early). */
    let formatErrorAt: number | null = null;
    for (;;) {
      if (scan.multi === 0) pos = scan.reader.position;
      const first = scan.reader.readExact(1);
      if (first === null) break; // EOF
      scan.reader.position -= 1;
      if (first[0] === 35) {
        const annotation = processAnnotation(state, scan, fd, filePath, isLast);
        if (annotation === 'timestamp-truncated') return annotation;
        if (annotation === 'unterminated') {
          // Deviation from redis-check-aof, which never looks at an annotation's end: one with no
          // newline (torn at EOF, or longer than a 1023-byte fgets) is where the valid part ends,
          // so --fix cuts it whole instead of leaving a piece the loader treats as a torn tail.
          state.io.out(`AOF ${name} format error: an annotation without its newline`);
          break;
        }
      } else if (first[0] === 42) {
        if (!processResp(state, scan, filePath)) {
          if (!endsTooEarly(scan)) formatErrorAt = scan.errorPos;
          break;
        }
      } else {
        state.io.out(`AOF ${name} format error`);
        formatErrorAt = scan.reader.position;
        break;
      }
    }
    if (scan.reader.atEof && scan.multi !== 0 && scan.error === '') {
      setError(scan, 'Reached EOF before reading EXEC for MULTI');
    }
    if (scan.error !== '') state.io.out(scan.error);
    if (state.fix && isLast && formatErrorAt !== null)
      refuseDeepCut(state, name, size, formatErrorAt);
    return await finishSingle(state, fd, name, size, pos, isLast);
  } finally {
    state.fs.close(fd);
  }
}

/** The scan stopped because the file ends inside a command (a torn tail), not on bad bytes. */
function endsTooEarly(scan: Scan): boolean {
  if (scan.error === '' || scan.reader.atEof) return true;
  return /: (Expected to read \d+ bytes, got|Reached EOF)/.test(scan.error);
}

/** Redis 8.4's bound (see CheckState.corruptTailMaxBytes): exits when the damage is too deep. */
function refuseDeepCut(state: CheckState, name: string, size: number, offset: number): void {
  const max = state.corruptTailMaxBytes;
  if (max === 0 || size - offset <= max) return;
  state.io.out(
    `AOF ${name}: the format error at offset ${offset} starts ${size - offset} bytes before ` +
      `the end of the file, more than aof-load-corrupt-tail-max-size (${max}): it is not a ` +
      'corrupt tail, refusing to cut it. Restore the file from a backup, or run without ' +
      '--corrupt-tail-max-size to cut everything after it.',
  );
  exit(1);
}

function checkPreamble(state: CheckState, scan: Scan, name: string): void {
  if (state.checkRdb === null || !state.checkRdb(scan.reader, name)) {
    state.io.out('RDB preamble of AOF file is not sane, aborting.');
    exit(1);
  }
  state.io.out('RDB preamble is OK, proceeding with AOF tail...');
}

async function finishSingle(
  state: CheckState,
  fd: number,
  name: string,
  size: number,
  okUpTo: number,
  isLast: boolean,
): Promise<SingleResult> {
  const diff = size - okUpTo;
  if (diff === 0 && state.toTimestamp !== 0) {
    state.io.out(`Truncate nothing in AOF ${name} to timestamp ${state.toTimestamp}`);
    return 'ok';
  }
  state.io.out(
    `AOF analyzed: filename=${name}, size=${size}, ok_up_to=${okUpTo}, ` +
      `ok_up_to_line=${state.line}, diff=${diff}`,
  );
  if (diff === 0) return 'ok';
  if (!state.fix) {
    state.io.out(`AOF ${name} is not valid. Use the --fix option to try fixing it.`);
    exit(1);
  }
  if (!isLast) {
    state.io.out(`Failed to truncate AOF ${name} because it is not the last file`);
    exit(1);
  }
  state.io.out(
    `This will shrink the AOF ${name} from ${size} bytes, with ${diff} bytes, to ${okUpTo} bytes`,
  );
  const answer = await state.io.prompt('Continue? [y/N]: ');
  if (answer === null || !/^y/i.test(answer)) {
    state.io.out('Aborting...');
    exit(1);
  }
  try {
    state.fs.ftruncate(fd, okUpTo);
    state.fs.fdatasync(fd);
  } catch {
    state.io.out(`Failed to truncate AOF ${name}`);
    exit(1);
  }
  return 'truncated';
}

/**
 * Redis processAnnotations: only `#TS:` matters, and only in --truncate-to-timestamp mode. Also
 * reports an annotation with no newline (see the caller).
 */
function processAnnotation(
  state: CheckState,
  scan: Scan,
  fd: number,
  filePath: string,
  isLast: boolean,
): 'ok' | 'timestamp-truncated' | 'unterminated' {
  const epos = scan.reader.position;
  const line = scan.reader.readLine()!;
  if (line[line.length - 1] !== 10) return 'unterminated';
  if (state.toTimestamp === 0 || line.subarray(0, 4).toString('latin1') !== '#TS:') return 'ok';
  const m = /^#TS:([+-]?\d+)\r/.exec(line.toString('latin1'));
  if (m === null) {
    state.io.out('Invalid timestamp annotation');
    exit(1);
  }
  if (Number(m[1]) <= state.toTimestamp) return 'ok';
  if (epos === 0) {
    state.io.out(`AOF ${filePath} has nothing before timestamp ${state.toTimestamp}, aborting...`);
    exit(1);
  }
  if (!isLast) {
    state.io.out(
      `Failed to truncate AOF ${filePath} to timestamp ${state.toTimestamp} to offset ` +
        `${epos} because it is not the last file.`,
    );
    state.io.out(
      'If you insist, please delete all files after this file according to the ' +
        'manifest file and delete the corresponding records in manifest file manually. ' +
        'Then re-run aofkv check-aof.',
    );
    exit(1);
  }
  try {
    state.fs.ftruncate(fd, epos);
    state.fs.fdatasync(fd);
  } catch {
    state.io.out(`Failed to truncate AOF ${filePath} to timestamp ${state.toTimestamp}`);
    exit(1);
  }
  return 'timestamp-truncated';
}

/** Redis readLong: `<prefix><number>\r\n` from one fgets of at most 127 bytes. */
function readLong(state: CheckState, scan: Scan, prefix: string): number | null {
  scan.errorPos = scan.reader.position;
  const line = scan.reader.readLine();
  if (line === null) return null;
  const read = line.subarray(0, Math.min(line.length, 127)).toString('latin1');
  const leftover = prefix === '*' ? scan.starLineBuffer.slice(read.length + 1) : '';
  const text = `${read}\0${leftover}`;
  if (prefix === '*') scan.starLineBuffer = text;
  if (text[0] !== prefix) {
    setError(scan, `Expected prefix '${prefix}', got: '${text[0] ?? ''}'`);
    return null;
  }
  // C strtol: skip white space, optional sign, digits; with no digits nothing is consumed.
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(text.slice(1));
  const value = m === null ? 0 : Number(m[1]);
  const after = m === null ? text.slice(1) : text.slice(1 + m[0].length);
  if (!consumeNewline(state, scan, after)) return null;
  return value;
}

function consumeNewline(state: CheckState, scan: Scan, bytes: string): boolean {
  if (!bytes.startsWith('\r\n')) {
    const hex = (c: string | undefined) =>
      c === undefined ? '00' : c.charCodeAt(0).toString(16).padStart(2, '0');
    setError(scan, `Expected \\r\\n, got: ${hex(bytes[0])}${hex(bytes[1])}`);
    return false;
  }
  state.line++;
  return true;
}

/** Redis processRESP: one command, strictly, tracking MULTI/EXEC nesting. */
function processResp(state: CheckState, scan: Scan, filePath: string): boolean {
  const argc = readLong(state, scan, '*');
  if (argc === null) return false;
  for (let i = 0; i < argc; i++) {
    const len = readLong(state, scan, '$');
    if (len === null) return false;
    if (len < 0 || len > Number.MAX_SAFE_INTEGER - 2) {
      setError(scan, `Expected to read string of ${len} bytes, which is not in the suitable range`);
      return false;
    }
    scan.errorPos = scan.reader.position;
    const remaining = scan.reader.fileSize - scan.reader.position;
    const bytes = scan.reader.readExact(len + 2);
    if (bytes === null) {
      setError(scan, `Expected to read ${len + 2} bytes, got ${Math.max(0, remaining)} bytes`);
      return false;
    }
    const tail = bytes.subarray(len).toString('latin1');
    const word = i === 0 ? bytes.subarray(0, len).toString('latin1').toLowerCase() : '';
    if (!consumeNewline(state, scan, tail)) return false;
    if (word === 'multi' && scan.multi++ !== 0) {
      setError(scan, `Unexpected MULTI in AOF ${filePath}`);
      return false;
    }
    if (word === 'exec' && --scan.multi !== 0) {
      setError(scan, `Unexpected EXEC in AOF ${filePath}`);
      return false;
    }
  }
  return true;
}
