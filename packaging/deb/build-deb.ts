// npm run package:deb — builds the Debian package for an offline install on a clinic PC, with Debian's
// own tools (dpkg-deb, dpkg -S, ldd). Prints the path of the .deb as the last line on stdout (progress
// goes to stderr). Needs: npm registry access (or a warm npm cache) for the production dependencies,
// libpcsclite-dev and a C toolchain for the pcsclite addon, Node >= 20.19 (the running Node is bundled).
//
// What ships is what `npm pack` ships (the package's `files`), installed with the repository's lockfile
// (`npm ci --omit=dev`), plus the running Node binary, so /usr/bin/yikad never depends on the
// distribution's nodejs (Debian 12 has 18) or on a devDependency.
//
// Options: --out DIR (default dist-deb/), --keep (keep the staging directory), --compression xz|gzip|zstd.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { parseCliOptions, type CliOptionTable } from '../../common/cli-options.ts';
import { udevRulesFile } from '../../daemon/devices/udev-rules.ts';
import { controlFile, copyrightFile, DEB_COMMANDS, DEB_PATHS, debianVersion, DEPENDS, readmeDebian, wrapperScript } from './deb-files.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');

const started = Date.now();
function log(msg: string): void {
  process.stderr.write(`package:deb: [${((Date.now() - started) / 1000).toFixed(1)} s] ${msg}\n`);
}

/** Stops the build; main() reports it after the staging directory is removed. */
class PackageError extends Error {}

function fail(msg: string): never {
  throw new PackageError(msg);
}

function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited ${r.status}\n${String(r.stderr ?? '').slice(-4000)}${String(r.stdout ?? '').slice(-2000)}`);
  return String(r.stdout ?? '');
}

const OPTIONS = {
  out: { type: 'string' },
  keep: { type: 'boolean' },
  compression: { type: 'string', choices: ['xz', 'gzip', 'zstd'] },
} as const satisfies CliOptionTable;

function parseBuildArgs(argv: string[]): { out: string; keep: boolean; compression: string } {
  // zstd: seconds instead of minutes for the ≈ 100 MB runtime; dpkg reads it from Debian 12 and Ubuntu
  // 18.04 on. --compression xz for older dpkg (Debian 11).
  try {
    const { values: v } = parseCliOptions(OPTIONS, argv);
    return { out: v.out ?? join(repo, 'dist-deb'), keep: v.keep === true, compression: v.compression ?? 'zstd' };
  } catch (e) {
    return fail(`${(e as Error).message} (--out DIR, --keep, --compression xz|gzip|zstd)`);
  }
}

function checkNode(engines: string | undefined): void {
  const min = /(\d+)\.(\d+)/.exec(engines ?? '>=20.19') ?? ['', '20', '19'];
  const [maj, minor] = process.versions.node.split('.').map(Number);
  if (maj < Number(min[1]) || (maj === Number(min[1]) && minor < Number(min[2]))) fail(`the running Node ${process.version} is bundled into the package, but Yika needs ${engines}`);
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** Drops what the target never loads: other platforms' prebuilt addons and node-gyp's object files. */
function prune(nodeModules: string, nodeArch: string): void {
  const stack = [nodeModules];
  while (stack.length) {
    const dir = stack.pop() as string;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (e.name === 'prebuilds') {
        for (const platform of readdirSync(p)) if (!platform.startsWith(`linux-${nodeArch}`)) rmSync(join(p, platform), { recursive: true, force: true });
      } else if (e.name === 'obj.target' || e.name === '.deps') rmSync(p, { recursive: true, force: true });
      else stack.push(p);
    }
  }
}

/** Every Debian package that provides a library the bundled binaries link must be in Depends. */
function checkDepends(binaries: string[]): void {
  const libs = new Set<string>();
  for (const b of binaries) {
    for (const line of run('ldd', [b]).split('\n')) {
      const m = /=>\s+(\/\S+)/.exec(line);
      if (/not found/.test(line)) fail(`${relative(repo, b)} links a library that is not installed: ${line.trim()}`);
      if (m) libs.add(m[1]);
    }
  }
  const declared = new Set(DEPENDS.map((d) => d.split(/[\s(]/)[0]));
  const missing = new Set<string>();
  for (const lib of libs) {
    const r = spawnSync('dpkg', ['-S', lib], { encoding: 'utf8' });
    // usrmerge: /lib/x86_64-linux-gnu/libc.so.6 is known to dpkg under /lib or /usr/lib.
    const alt = lib.startsWith('/usr/') ? lib.slice(4) : `/usr${lib}`;
    const out = r.status === 0 ? r.stdout : spawnSync('dpkg', ['-S', alt], { encoding: 'utf8' }).stdout;
    const pkg = /^([^:,\s]+)/.exec(out ?? '')?.[1];
    if (!pkg) fail(`no Debian package provides ${lib} (needed by the bundled binaries)`);
    if (!declared.has(pkg)) missing.add(`${pkg} (${lib})`);
  }
  if (missing.size) fail(`Depends lacks ${[...missing].join(', ')}: add them to DEPENDS in packaging/deb/deb-files.ts`);
}

function md5sums(root: string): string {
  return walk(root)
    .filter((f) => !relative(root, f).startsWith('DEBIAN') && !relative(root, f).startsWith('etc/'))
    .sort()
    .map((f) => `${createHash('md5').update(readFileSync(f)).digest('hex')}  ${relative(root, f)}`)
    .join('\n') + '\n';
}

function duKiB(dir: string): number {
  return walk(dir).reduce((n, f) => n + Math.ceil(statSync(f).size / 1024), 0);
}

function main(): void {
  const opts = parseBuildArgs(process.argv.slice(2));
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { name: string; version: string; description: string; engines?: { node?: string } };
  checkNode(pkg.engines?.node);
  const arch = run('dpkg', ['--print-architecture']).trim();
  if (!existsSync('/usr/include/PCSC/winscard.h')) fail('libpcsclite-dev is missing (the pcsclite addon is built against it): apt-get install libpcsclite-dev');
  const t0 = Date.now();

  const work = mkdtempSync(join(tmpdir(), 'yika-deb-'));
  try {
    const root = join(work, 'root');
    const app = join(root, DEB_PATHS.app);
    mkdirSync(dirname(app), { recursive: true });

    // 1. What npm would install (runs prepack, which builds).
    log('npm pack');
    run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: repo });
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tgz) fail('npm pack produced no tarball');
    run('tar', ['-xzf', join(work, tgz), '-C', work]);
    cpSync(join(work, 'package'), app, { recursive: true });
    if (!existsSync(join(app, 'dist', 'daemon', 'main.js'))) fail('npm pack has no compiled daemon (dist/daemon/main.js): check `files` and prepack in package.json');

    // 2. Production dependencies at the lockfile's versions; install scripts only for the dependencies
    //    (the root's prepare/build needs devDependencies), then native addons built against this Node.
    log('npm ci --omit=dev');
    copyFileSync(join(repo, 'package-lock.json'), join(app, 'package-lock.json'));
    run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app });
    run('npm', ['rebuild', '--no-audit', '--no-fund'], { cwd: app });
    prune(join(app, 'node_modules'), process.arch);

    // 3. The runtime, the wrappers, the service, udev, the configuration, the docs.
    // Node's release binary carries debug information (≈ 13 MB); Debian ships stripped binaries. The
    // dynamic symbols the native addons link against stay (strip keeps .dynsym).
    const node = join(root, DEB_PATHS.node);
    const stripped = spawnSync('strip', ['--strip-unneeded', '-o', node, process.execPath], { stdio: 'ignore' });
    if (stripped.status !== 0) {
      log('strip is not available: bundling Node unstripped');
      copyFileSync(process.execPath, node);
    }
    chmodSync(node, 0o755);
    for (const cmd of Object.keys(DEB_COMMANDS) as (keyof typeof DEB_COMMANDS)[]) {
      const p = join(root, 'usr/bin', cmd);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, wrapperScript(cmd), { mode: 0o755 });
    }
    const put = (path: string, text: string, mode = 0o644) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text, { mode });
    };
    put(DEB_PATHS.unit, readFileSync(join(here, 'yikad.service'), 'utf8'));
    put(DEB_PATHS.udevRules, udevRulesFile());
    put(DEB_PATHS.config, readFileSync(join(here, 'yikad.yaml'), 'utf8'));
    put(`${DEB_PATHS.doc}/copyright`, copyrightFile());
    put(`${DEB_PATHS.doc}/README.Debian`, readmeDebian(process.version));

    // 4. The native addons load with the bundled Node (an optional dependency that failed to build is
    //    silently absent after npm ci: say so here, not on the clinic PC).
    log('checking the addons and the compiled daemon with the bundled Node');
    const addons = ['pcsclite', '@serialport/bindings-cpp', 'msgpackr-extract'];
    run(node, ['-e', `for (const m of ${JSON.stringify(addons)}) require(m)`], { cwd: app });
    run(node, [join(app, DEB_COMMANDS.yikad), '--help'], { cwd: '/' });
    const natives = walk(join(app, 'node_modules')).filter((f) => f.endsWith('.node') && !/musl/.test(f));
    checkDepends([node, ...natives]);

    // 5. Control files and the package.
    const debian = join(root, 'DEBIAN');
    mkdirSync(debian);
    for (const s of ['postinst', 'prerm', 'postrm']) {
      copyFileSync(join(here, s), join(debian, s));
      chmodSync(join(debian, s), 0o755);
    }
    writeFileSync(join(debian, 'conffiles'), `${DEB_PATHS.config}\n`);
    writeFileSync(join(debian, 'md5sums'), md5sums(root));
    writeFileSync(join(debian, 'control'), controlFile({ version: pkg.version, arch, installedSizeKiB: duKiB(root), nodeVersion: process.version, description: pkg.description }));

    mkdirSync(opts.out, { recursive: true });
    const deb = join(opts.out, `yika_${debianVersion(pkg.version)}_${arch}.deb`);
    log(`dpkg-deb --build (${opts.compression})`);
    run('dpkg-deb', ['--root-owner-group', `-Z${opts.compression}`, '--build', root, deb]);
    log(`${(statSync(deb).size / 1048576).toFixed(1)} MiB, installed ${(duKiB(root) / 1024).toFixed(0)} MiB, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    process.stdout.write(`${deb}\n`);
  } finally {
    if (opts.keep) log(`staging kept: ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  process.stderr.write(`package:deb: error: ${e instanceof PackageError ? e.message : ((e as Error).stack ?? String(e))}\n`);
  process.exitCode = 1;
}
