// Redis sdssplitargs (sds.c): splits a line into arguments the way redis-cli and the AOF manifest
// reader do. Double quotes understand \xHH \n \r \t \b \a and \<any>; single quotes only \'.
// A closing quote must be followed by a space or the end of the line. Returns null on bad quoting.
// Works on Bin strings (bytes), so \xHH yields the byte HH.

const isSpace = (c: string | undefined): boolean =>
  c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\v' || c === '\f';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };

export function sdsSplitArgs(line: string): string[] | null {
  const out: string[] = [];
  let p = 0;
  const n = line.length;
  for (;;) {
    while (p < n && isSpace(line[p])) p++;
    if (p >= n) return out;
    let inDouble = false;
    let inSingle = false;
    let current = '';
    for (let done = false; !done; ) {
      const c = line[p];
      if (inDouble) {
        if (c === '\\' && line[p + 1] === 'x' && isHex(line[p + 2]) && isHex(line[p + 3])) {
          current += String.fromCharCode(parseInt(line.slice(p + 2, p + 4), 16));
          p += 3;
        } else if (c === '\\' && p + 1 < n) {
          p++;
          const e = line[p]!;
          current += ESCAPES[e] ?? e;
        } else if (c === '"') {
          if (p + 1 < n && !isSpace(line[p + 1])) return null;
          done = true;
        } else if (c === undefined) {
          return null; // unterminated double quote
        } else {
          current += c;
        }
      } else if (inSingle) {
        if (c === '\\' && line[p + 1] === "'") {
          p++;
          current += "'";
        } else if (c === "'") {
          if (p + 1 < n && !isSpace(line[p + 1])) return null;
          done = true;
        } else if (c === undefined) {
          return null; // unterminated single quote
        } else {
          current += c;
        }
      } else if (
        c === undefined ||
        c === ' ' ||
        c === '\n' ||
        c === '\r' ||
        c === '\t' ||
        c === '\0'
      ) {
        done = true;
      } else if (c === '"') {
        inDouble = true;
      } else if (c === "'") {
        inSingle = true;
      } else {
        current += c;
      }
      if (p < n) p++;
    }
    out.push(current);
  }
}

/**
 * Redis sdscatrepr: quote a byte string with C escapes. Used when writing manifest file names
 * that need quoting (spaces, quotes, backslashes, control or non-printable bytes).
 */
export function sdsCatRepr(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const code = s.charCodeAt(i);
    if (c === '\\' || c === '"') out += `\\${c}`;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c === '\x07') out += '\\a';
    else if (c === '\b') out += '\\b';
    else if (code >= 0x20 && code < 0x7f)
      out += c; // isprint in the C locale
    else out += `\\x${code.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}
