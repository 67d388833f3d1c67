import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeFileSystem } from '../../src/io/node-file-system.ts';
import { runFileSystemConformance } from './file-system.suite.ts';

runFileSystemConformance('NodeFileSystem', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aofkv-fs-'));
  return {
    fs: new NodeFileSystem(),
    root,
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
});
