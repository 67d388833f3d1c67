// Where the bio worker file is, and how to start a thread that can load it.
//
// This module sits next to workers/, in src/ when running from source and in dist/ after `tsc -b`,
// so resolving relative to import.meta.url finds the right sibling in both worlds:
// - source (Vitest, `node --import tsx`): this file is .ts, so the worker is .ts too, and Node 20
//   cannot load .ts in a worker thread by itself (Vitest transforms only its own thread), so the
//   worker gets `--import tsx` unless the parent's flags already load tsx (workers inherit them);
// - built: plain .js, no loader, no flags; the worker inherits the parent's execArgv.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export interface BioWorkerLocation {
  readonly url: URL;
  readonly isSource: boolean;
  /** For Piscina's execArgv; undefined means "inherit the parent's". */
  readonly execArgv: string[] | undefined;
}

export function resolveBioWorker(): BioWorkerLocation {
  return resolveWorkerScript(import.meta.url, './workers/bio-worker');
}

/**
 * The same resolution for any worker script of the workspace: `relativeNoExt` is resolved against
 * the caller's module URL, as `.ts` with the tsx loader from source and as `.js` after a build.
 * (The engine's AOF rewrite writer thread uses it.)
 */
export function resolveWorkerScript(callerUrl: string, relativeNoExt: string): BioWorkerLocation {
  const isSource = callerUrl.endsWith('.ts');
  const url = new URL(`${relativeNoExt}.${isSource ? 'ts' : 'js'}`, callerUrl);
  if (!isSource || execArgvLoadsTsx(process.execArgv)) {
    return { url, isSource, execArgv: undefined };
  }
  return { url, isSource, execArgv: [...process.execArgv, '--import', tsxImportSpecifier()] };
}

const LOADER_FLAGS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);

export function execArgvLoadsTsx(execArgv: readonly string[]): boolean {
  return execArgv.some((arg, index) => {
    const [flag, inlineValue] = splitFlag(arg);
    if (!LOADER_FLAGS.has(flag)) return false;
    const value = inlineValue ?? execArgv[index + 1] ?? '';
    return value === 'tsx' || value.startsWith('tsx/') || /[\\/]tsx[\\/]/.test(value);
  });
}

function splitFlag(arg: string): [string, string | undefined] {
  const equals = arg.indexOf('=');
  return equals < 0 ? [arg, undefined] : [arg.slice(0, equals), arg.slice(equals + 1)];
}

/**
 * An absolute URL of tsx's loader, resolved from this package, so the worker finds tsx whatever
 * the process's cwd is; the bare name is the fallback when tsx is not resolvable from here.
 */
function tsxImportSpecifier(): string {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch {
    return 'tsx';
  }
}
