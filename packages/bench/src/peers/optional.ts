// Loading an optional peer. The peers are optionalDependencies (better-sqlite3 compiles from
// source and may fail; the others ship prebuilt binaries that may not match a platform), so the
// bench must run without any of them. The module name goes through a variable so TypeScript does
// not need the package's types to be present either: each peer module declares the small
// structural interface it uses and checks the loaded shape at runtime.

export type Loaded<T> = { ok: true; module: T } | { ok: false; reason: string };

export async function importOptional(name: string): Promise<Loaded<Record<string, unknown>>> {
  try {
    const specifier: string = name;
    const module = (await import(specifier)) as Record<string, unknown>;
    return { ok: true, module };
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    return { ok: false, reason: `cannot load '${name}': ${message}` };
  }
}

/**
 * The installed version of a package, or null when not installed. Read from
 * node_modules/<name>/package.json next to this package or its siblings: many packages' `exports`
 * do not expose package.json to require(), and pnpm links each dependency only into the package
 * that declares it (piscina is the engine's, not the bench's).
 */
export async function packageVersion(name: string): Promise<string | null> {
  const { readFileSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const path = await import('node:path');
  const bench = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const bases = [
    bench,
    path.join(bench, '../engine'),
    path.join(bench, '../bio-workers'),
    path.join(bench, '../..'),
  ];
  for (const base of bases) {
    try {
      const pkg = JSON.parse(
        readFileSync(path.join(base, 'node_modules', name, 'package.json'), 'utf8'),
      ) as { version?: unknown };
      if (typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not installed under this base; try the next one
    }
  }
  return null;
}
