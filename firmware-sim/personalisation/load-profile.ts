// Reads a profile JSON file and checks it against the schema (clear ProfileError codes, no values in
// messages). Only this file does I/O; the cards themselves are pure.
import { readFileSync } from 'node:fs';
import type { HealthCardProfile } from './profile.ts';
import { ProfileError } from './profile-errors.ts';
import { validateProfile } from './profile-schema.ts';

export function loadProfile(path: string): HealthCardProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ProfileError('PROFILE_NOT_FOUND', 'cannot read the profile file', { path }, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message may quote file content: keep it out.
    throw new ProfileError('PROFILE_NOT_JSON', 'the profile file is not valid JSON', { path });
  }
  return validateProfile(json);
}

/** Pretty JSON for committing a profile (stable key order: item numbers ascending). */
export function serialiseProfile(profile: HealthCardProfile): string {
  return `${JSON.stringify(profile, null, 2)}\n`;
}
