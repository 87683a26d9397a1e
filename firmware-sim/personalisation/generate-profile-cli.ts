// Writes a synthetic cardholder profile as JSON to stdout:
//   node --import tsx firmware-sim/personalisation/generate-profile-cli.ts --seed 42 [--city 440100 | --province 44] [--no-photo]
import { parseCliOptions, type CliOptionTable } from '../../common/cli-options.ts';
import { generateProfile } from './cardholder-generator.ts';
import { serialiseProfile } from './load-profile.ts';

const OPTIONS = {
  seed: { type: 'string' },
  city: { type: 'string' },
  province: { type: 'string' },
  photo: { type: 'boolean', negatable: true },
} as const satisfies CliOptionTable;

try {
  const { values } = parseCliOptions(OPTIONS, process.argv.slice(2));
  const text = values.seed ?? '1';
  const seed = /^\d+$/.test(text) ? Number(text) : text;
  process.stdout.write(serialiseProfile(generateProfile(seed, { cityCode: values.city, province: values.province, noPhoto: values.photo === false })));
} catch (e) {
  process.stderr.write(`generate-profile: ${(e as Error).message}\n`);
  process.exitCode = 2;
}
