// The style guide's 100-column limit for every git-tracked .ts file of the repository. Biome wraps
// code at 100 columns but cannot wrap comments or string literals; this test keeps those within it.
// Columns are counted as the JavaScript string length of the line.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAX_COLUMNS = 100;
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

function trackedTsFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--', '*.ts'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  return out.split('\0').filter((file) => file !== '');
}

describe('line length', () => {
  it(`keeps every line of every tracked .ts file within ${MAX_COLUMNS} columns`, () => {
    const files = trackedTsFiles();
    // This file is tracked too: an empty list means git did not run where it should.
    expect(files).toContain('packages/engine/test/unit/line-length.test.ts');
    const tooLong: string[] = [];
    for (const file of files) {
      const lines = readFileSync(path.join(REPO_ROOT, file), 'utf8').split(/\r?\n/);
      lines.forEach((line, i) => {
        if (line.length > MAX_COLUMNS) tooLong.push(`${file}:${i + 1} (${line.length})`);
      });
    }
    expect(tooLong, `lines over ${MAX_COLUMNS} columns:\n${tooLong.join('\n')}`).toEqual([]);
  });
});
