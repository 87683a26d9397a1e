// Config files: the default configuration with random keys deleted, values swapped for values of other
// types, unknown keys added, and byte-level mutations of the JSON and YAML text, loaded through the
// daemon's loadConfig (as `yikad --config FILE`). Every refusal must be a typed ConfigError whose
// message names the file (a crash otherwise); an accepted file must load to a usable config.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { isYikaError } from '../../../common/yika-error.ts';
import { defaultConfig } from '../../../daemon/config/config-schema.ts';
import { loadConfig, parseDaemonFlags } from '../../../daemon/config/load-config.ts';
import { mutateBytes, rng, type Rng } from '../kit/rng.ts';
import { Tally, scaled, type BlockOptions, type BlockResult } from '../kit/outcome.ts';

const ODD_VALUES: unknown[] = [null, true, -1, 0, 1e9, 3.5, '', 'x', '0.0.0.0:99999', '[::1]:7611', 'required', [], {}, [1, 'a'], { host: 1 }, '123456', 'a'.repeat(5000), '__proto__'];
const EXTRA_KEYS = ['__proto__', 'constructor', 'unknown', 'token', 'pin', 'port', 'anchors', 'rateLimit', 'bodyLimit', 'allowedOrigins'];

function mutateDoc(r: Rng, node: unknown, depth = 0): unknown {
  if (Array.isArray(node)) return node.map((x) => mutateDoc(r, x, depth + 1));
  if (!node || typeof node !== 'object') return r.int(6) === 0 ? r.pick(ODD_VALUES) : node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    const roll = r.int(10);
    if (roll === 0) continue; // dropped
    out[k] = roll === 1 ? r.pick(ODD_VALUES) : mutateDoc(r, v, depth + 1);
  }
  if (r.int(5) === 0) out[r.pick(EXTRA_KEYS)] = r.pick(ODD_VALUES);
  return out;
}

export async function fuzzConfigFiles(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Fuzzing', 'config files (loadConfig)', o.seed);
  const r = rng(o.seed);
  const dir = mkdtempSync(join(tmpdir(), 'yika-config-fuzz-'));
  try {
    const base = defaultConfig() as unknown;
    for (let i = 0, n = scaled(o, 4000, 60); i < n; i++) {
      const yaml = r.int(2) === 0;
      const file = join(dir, `yikad-${i}.${yaml ? 'yaml' : 'json'}`);
      const doc = mutateDoc(r, base);
      let text: string | Uint8Array = yaml ? toYaml(doc) : JSON.stringify(doc, null, r.int(3));
      const kind = r.int(4);
      if (kind === 0) text = mutateBytes(r, Buffer.from(text));
      else if (kind === 1) text = r.bytes(r.int(400));
      writeFileSync(file, text);
      try {
        const c = loadConfig(parseDaemonFlags(['--config', file]), {});
        if (!c.listen || typeof c.listen.port !== 'number') t.wrong('accepted a file into a config without listen.port', { name: `file-${i}`, data: text });
        else t.count('loaded');
      } catch (e) {
        if (!isYikaError(e)) t.crash(`${(e as Error).name}: ${(e as Error).message}`, { name: `file-${i}`, data: text });
        else if (!e.message.includes(file)) t.crash(`${e.code} does not name the file: "${e.message.slice(0, 120)}"`, { name: `file-${i}`, data: text });
        else t.count(e.code);
      }
    }
    // A missing file, a directory, an unreadable path.
    for (const file of [join(dir, 'missing.yaml'), dir]) {
      try {
        loadConfig(parseDaemonFlags(['--config', file]), {});
        t.wrong(`loaded ${file === dir ? 'a directory' : 'a missing file'}`);
      } catch (e) {
        if (isYikaError(e) && e.message.includes(file)) t.count(e.code);
        else t.crash(`${(e as Error).message} (for ${file === dir ? 'a directory' : 'a missing file'})`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return t.done();
}
