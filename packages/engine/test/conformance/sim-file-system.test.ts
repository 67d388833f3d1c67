import { SimFileSystem } from '../../src/testing/sim-file-system.ts';
import { runFileSystemConformance } from './file-system.suite.ts';

runFileSystemConformance('SimFileSystem', () => {
  const fs = new SimFileSystem();
  const root = '/var/lib/aofkv';
  fs.mkdir(root);
  return {
    fs,
    root,
    // After every test the model must still satisfy visible == durable + pending.
    cleanup: () => fs.checkInvariants(),
  };
});
