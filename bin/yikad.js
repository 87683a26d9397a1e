#!/usr/bin/env node
// Runs the compiled build when present (npm run build), else the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

const built = new URL('../dist/daemon/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../daemon/main.ts', import.meta.url).href);
}
