#!/usr/bin/env node
// Runs the compiled code in dist/ (npm run build). Never TypeScript at run time: an installed Yika has
// no tsx. In a git checkout, `npm ci` builds; during development run the sources with
// `node --import tsx daemon/cli/yika.ts`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/daemon/cli/yika.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write(`yika: the compiled code is missing (${fileURLToPath(built)}): run \`npm run build\` in a checkout, or reinstall the package\n`);
  process.exit(6); // exit code 6: the installation is incomplete (yikad --help lists the codes)
}
await import(built.href);
