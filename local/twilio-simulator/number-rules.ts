/** The simulator's deterministic idea of what a number is (real Twilio asks the carriers). */
export type NumberClass =
  | { kind: 'invalid' }
  | { kind: 'non-us' }
  | { kind: 'toll-free' }
  | { kind: 'unsupported' }
  | { kind: 'mobile' }
  | { kind: 'local' };

const E164 = /^\+[1-9]\d{1,14}$/;
const NANP = /^\+1[2-9]\d{2}[2-9]\d{6}$/;
const TOLL_FREE_AREA_CODES = ['800', '833', '844', '855', '866', '877', '888'];
const MOBILE_AREA_CODES = ['917'];

/** True for any E.164 number (a "+" and 2 to 15 digits). */
export function isE164(value: string): boolean {
  return E164.test(value);
}

/** Classifies a number: toll-free area codes, ...9999 unsupported, area code 917 mobile, else local. */
export function classifyNumber(phoneNumber: string): NumberClass {
  if (!isE164(phoneNumber)) return { kind: 'invalid' };
  if (!phoneNumber.startsWith('+1')) return { kind: 'non-us' };
  if (!NANP.test(phoneNumber)) return { kind: 'invalid' };
  const areaCode = phoneNumber.slice(2, 5);
  if (TOLL_FREE_AREA_CODES.includes(areaCode)) return { kind: 'toll-free' };
  if (phoneNumber.endsWith('9999')) return { kind: 'unsupported' };
  if (MOBILE_AREA_CODES.includes(areaCode)) return { kind: 'mobile' };
  return { kind: 'local' };
}

/** "(415) 555-0100", the friendly name Twilio gives a US number. */
export function friendlyUsNumber(phoneNumber: string): string {
  const match = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(phoneNumber);
  return match ? `(${match[1]}) ${match[2]}-${match[3]}` : phoneNumber;
}
