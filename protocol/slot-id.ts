// How a person writes a slot id (PROTOCOL.md: 0x01 the contact card, 0x02 the contactless field,
// 0x11–0x14 the SAM slots 1–4; any id is 0–255): decimal `17`, hex `0x11`, or `sam1` (= 0x10 + N).
// One grammar for the API path, the yika CLI, the simulator's commands and scenarios. Which ids a
// reader has is the reader's business (it answers BAD_SLOT / SLOT_NOT_FOUND), not the grammar's.

/** The grammar as a JSON Schema pattern (route parameters), the same as parseSlotId accepts. */
export const SLOT_ID_PATTERN = '^(?:0[xX][0-9A-Fa-f]{1,2}|[01]?\\d{1,2}|2[0-4]\\d|25[0-5]|[sS][aA][mM][1-9])$';

/** How to write one, for messages and the API description. */
export const SLOT_ID_FORMS = 'decimal (17), hex (0x11) or samN (sam1 = 0x11)';

const GRAMMAR = new RegExp(SLOT_ID_PATTERN);

/** The slot id `text` names (0–255), or undefined when it is not one (each caller throws its own typed error). */
export function parseSlotId(text: string): number | undefined {
  if (!GRAMMAR.test(text)) return undefined;
  const lower = text.toLowerCase();
  return lower.startsWith('0x') ? parseInt(lower.slice(2), 16) : lower.startsWith('sam') ? 0x10 + Number(lower.slice(3)) : Number(lower);
}

/** A slot id as the messages write it: 0x01, 0x11 (parseSlotId reads it back). */
export function slotIdText(slot: number): string {
  return `0x${slot.toString(16).padStart(2, '0')}`;
}
