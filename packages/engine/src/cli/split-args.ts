// redis-cli splits every input line with sds.c sdssplitargs() (Redis 7.0.15). This is a port that
// works on byte strings (Bin) so that \xHH escapes and raw non-UTF-8 input produce exact bytes:
//   - blanks (C isspace: space \t \n \v \f \r) separate arguments;
//   - "double quotes" understand \n \r \t \b \a, \xHH (two hex digits) and \<any other char> as
//     that char; a lone \x without two hex digits is just "x";
//   - 'single quotes' understand only \' ; every other backslash stays;
//   - a quote may start in the middle of a token (ab"cd" is abcd), but a closing quote must be
//     followed by a blank or the end of the line, and an unterminated quote is an error;
//   - outside quotes only space \n \r \t end a token (\v and \f do not, although they are
//     skipped between tokens) — an oddity of the C code that we keep.
// The C function works on a NUL-terminated string, so input stops at the first NUL byte.

import type { Bin } from '../bytes.ts';

/**
 * The arguments of `line`, or null when the quoting is invalid (redis-cli: "Invalid argument(s)").
 */
export function splitArgs(line: Bin): Bin[] | null {
  const nul = line.indexOf('\0');
  const s = nul === -1 ? line : line.slice(0, nul);
  const n = s.length;
  const args: Bin[] = [];
  let p = 0;
  for (;;) {
    while (p < n && isCSpace(s.charCodeAt(p))) p++;
    if (p >= n) return args;
    let current = '';
    let inDouble = false;
    let inSingle = false;
    let done = false;
    while (!done) {
      const c = p < n ? s.charCodeAt(p) : 0;
      if (inDouble) {
        if (
          c === BACKSLASH &&
          code(s, p + 1) === X &&
          isHex(code(s, p + 2)) &&
          isHex(code(s, p + 3))
        ) {
          current += String.fromCharCode(hexValue(code(s, p + 2)) * 16 + hexValue(code(s, p + 3)));
          p += 3;
        } else if (c === BACKSLASH && p + 1 < n) {
          p++;
          current += unescapeChar(s.charCodeAt(p));
        } else if (c === DQUOTE) {
          if (p + 1 < n && !isCSpace(s.charCodeAt(p + 1))) return null;
          done = true;
        } else if (c === 0) {
          return null; // unterminated "..."
        } else {
          current += s[p];
        }
      } else if (inSingle) {
        if (c === BACKSLASH && code(s, p + 1) === SQUOTE) {
          p++;
          current += "'";
        } else if (c === SQUOTE) {
          if (p + 1 < n && !isCSpace(s.charCodeAt(p + 1))) return null;
          done = true;
        } else if (c === 0) {
          return null; // unterminated '...'
        } else {
          current += s[p];
        }
      } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0) {
        done = true;
      } else if (c === DQUOTE) {
        inDouble = true;
      } else if (c === SQUOTE) {
        inSingle = true;
      } else {
        current += s[p];
      }
      if (p < n) p++;
    }
    args.push(current);
  }
}

const BACKSLASH = 0x5c;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const X = 0x78;

/** Char code at i, or 0 past the end (the C string's terminating NUL). */
function code(s: string, i: number): number {
  return i < s.length ? s.charCodeAt(i) : 0;
}

/** C isspace() in the "C" locale (redis-cli only sets LC_COLLATE). */
export function isCSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function hexValue(c: number): number {
  if (c <= 0x39) return c - 0x30;
  return (c | 0x20) - 0x61 + 10;
}

function unescapeChar(c: number): string {
  switch (c) {
    case 0x6e:
      return '\n';
    case 0x72:
      return '\r';
    case 0x74:
      return '\t';
    case 0x62:
      return '\b';
    case 0x61:
      return '\x07';
    default:
      return String.fromCharCode(c);
  }
}
