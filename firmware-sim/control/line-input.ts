// yika-sim's stdin for people: one command per line (`help` lists them); answers go to `output`.
import { hexUpper } from '../../common/hex.ts';
import { createInterface } from 'node:readline';
import { parseCommandLine } from './sim-commands.ts';
import type { SimController } from './sim-controller.ts';

export function attachLineInput(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, controller: SimController): () => void {
  const rl = createInterface({ input, terminal: false });
  let chain: Promise<void> = Promise.resolve();
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      let command;
      try {
        command = parseCommandLine(line);
      } catch (e) {
        output.write(`error ${(e as { code?: string }).code}: ${(e as Error).message}\n`);
        return;
      }
      if (!command) return;
      const r = await controller.run(command);
      if (!r.ok) output.write(`error ${r.error.code}: ${r.error.message}\n`);
      else if (typeof r.result === 'string') output.write(`${r.result}\n`);
      else output.write(r.result === undefined ? 'ok\n' : `ok ${JSON.stringify(r.result, (_k, v) => (v instanceof Uint8Array ? hexUpper(v) : v))}\n`);
    });
  });
  return () => rl.close();
}
