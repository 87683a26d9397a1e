// The package's version, read from the package.json above this module. Searched upwards rather than
// at a fixed relative path, so it works from the sources (daemon/), the tsc build (dist/daemon/), a
// global npm install and the Debian package alike.
import { existsSync, readFileSync } from 'node:fs';

function findVersion(): string {
  let dir = new URL('./', import.meta.url);
  for (let i = 0; i < 6; i++) {
    const file = new URL('package.json', dir);
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'yika' && pkg.version) return pkg.version;
    }
    const parent = new URL('../', dir);
    if (parent.href === dir.href) break;
    dir = parent;
  }
  return '0.0.0-unknown';
}

export const VERSION = findVersion();
