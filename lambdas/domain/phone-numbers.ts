import { lazy } from '../shared/lazy';

/**
 * libphonenumber-js with the metadata of the +1 countries (their number lengths and types, which telling a valid US
 * number needs), loaded when the first number is parsed: the function's routes that parse none (and the split,
 * which only needs isTollFree) do not pay for it at init.
 */
const phoneNumbers = lazy(() => require('./phone-number-parser') as typeof import('./phone-number-parser'));

/** US toll-free area codes: Twilio's Porting API cannot port these (PORTING-FACTS). */
const TOLL_FREE_AREA_CODES = new Set(['800', '833', '844', '855', '866', '877', '888']);

export type ParsedPhoneNumber = { readonly ok: true; readonly e164: string } | { readonly ok: false };

/**
 * Parses a US phone number written in any common notation ("(415) 555-0100", "415.555.0100",
 * "+1 415 555 0100", "1-415-555-0100") to E.164. Anything that is not a valid US number is refused.
 */
export function parseUsPhoneNumber(input: string): ParsedPhoneNumber {
  if (typeof input !== 'string' || input.length > 40) return { ok: false };
  const parsed = phoneNumbers().parsePhoneNumberFromString(input.trim(), 'US');
  if (parsed?.country !== 'US' || !parsed.isValid()) return { ok: false };
  return { ok: true, e164: parsed.number };
}

/** True for a US toll-free number in E.164. */
export function isTollFree(e164: string): boolean {
  return e164.startsWith('+1') && TOLL_FREE_AREA_CODES.has(e164.slice(2, 5));
}

/** Shows only the last four digits, for emails and logs: "•••-•••-0100". */
export function maskTail(value: string, visible = 4): string {
  const tail = value.slice(-visible);
  return `${'•'.repeat(Math.max(0, Math.min(value.length - visible, 8)))}${tail}`;
}
