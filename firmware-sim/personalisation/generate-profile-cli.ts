// Writes a synthetic cardholder profile as JSON to stdout:
//   node --import tsx firmware-sim/personalisation/generate-profile-cli.ts --seed 42 [--city 440100 | --province 44] [--no-photo]
import { parseArgs } from 'node:util';
import { generateProfile } from './cardholder-generator.ts';
import { serialiseProfile } from './load-profile.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    city: { type: 'string' },
    province: { type: 'string' },
    'no-photo': { type: 'boolean', default: false },
  },
});
const seed = /^\d+$/.test(values.seed!) ? Number(values.seed) : values.seed!;
try {
  process.stdout.write(serialiseProfile(generateProfile(seed, { cityCode: values.city, province: values.province, noPhoto: values['no-photo'] })));
} catch (e) {
  process.stderr.write(`generate-profile: ${(e as Error).message}\n`);
  process.exitCode = 2;
}
