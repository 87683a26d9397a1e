// Worker thread of the verify pool: SM2 verification of (public key, message, signature) triples.
// Keys are cached per public key (importing a key costs a third of a verify).
import { parentPort } from 'node:worker_threads';
import { DEFAULT_SM2_ID, Sm2PublicKey } from '../crypto/index.ts';

interface Job {
  id: number;
  pub: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

const keys = new Map<string, Sm2PublicKey>();

parentPort!.on('message', (job: Job) => {
  let ok = false;
  try {
    const k = Buffer.from(job.pub).toString('hex');
    let key = keys.get(k);
    if (!key) {
      key = Sm2PublicKey.fromBytes(job.pub);
      if (keys.size > 256) keys.clear();
      keys.set(k, key);
    }
    ok = key.verify(job.message, job.signature, { id: DEFAULT_SM2_ID, format: 'raw' });
  } catch {
    ok = false;
  }
  parentPort!.postMessage({ id: job.id, ok });
});
