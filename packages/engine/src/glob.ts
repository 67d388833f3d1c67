// Redis stringmatchlen (util.c): glob-style matching used by KEYS, SCAN MATCH and CONFIG GET.
// Supports * ? [abc] [^abc] [a-z] and backslash escapes; works on Bin strings byte by byte.
// Iterative with backtracking on the last '*', so a pathological pattern costs O(n*m), not 2^n.

export function globMatch(pattern: string, subject: string, nocase = false): boolean {
  const p = nocase ? pattern.toLowerCase() : pattern;
  const s = nocase ? subject.toLowerCase() : subject;
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < p.length) {
      const pc = p[pi]!;
      if (pc === '*') {
        while (pi < p.length && p[pi] === '*') pi++;
        if (pi === p.length) return true;
        starP = pi;
        starS = si;
        continue;
      }
      const step = matchOne(p, pi, s[si]!);
      if (step > 0) {
        pi += step;
        si++;
        continue;
      }
    }
    if (starP === -1) return false;
    pi = starP;
    si = ++starS;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** Does pattern element at p[pi] match character c? Returns the element's length, or 0. */
function matchOne(p: string, pi: number, c: string): number {
  const pc = p[pi]!;
  if (pc === '?') return 1;
  if (pc === '\\' && pi + 1 < p.length) return p[pi + 1] === c ? 2 : 0;
  if (pc !== '[') return pc === c ? 1 : 0;
  let i = pi + 1;
  const not = p[i] === '^';
  if (not) i++;
  let matched = false;
  while (i < p.length && p[i] !== ']') {
    if (p[i] === '\\' && i + 1 < p.length) {
      if (p[i + 1] === c) matched = true;
      i += 2;
    } else if (i + 2 < p.length && p[i + 1] === '-' && p[i + 2] !== ']') {
      let lo = p[i]!;
      let hi = p[i + 2]!;
      if (lo > hi) [lo, hi] = [hi, lo];
      if (c >= lo && c <= hi) matched = true;
      i += 3;
    } else {
      if (p[i] === c) matched = true;
      i++;
    }
  }
  // Redis treats an unterminated '[' as ending at the pattern's end.
  const len = (i < p.length ? i + 1 : i) - pi;
  return matched !== not ? len : 0;
}
