import fc from 'fast-check';
import { isTollFree, parseUsPhoneNumber } from '../../lambdas/domain/phone-numbers';

describe('parseUsPhoneNumber', () => {
  it.each([
    ['(415) 555-0100', '+14155550100'],
    ['415.555.0101', '+14155550101'],
    ['+1 415 555 0102', '+14155550102'],
    ['1-415-555-0103', '+14155550103'],
    ['4155550104', '+14155550104'],
    [' +1 (800) 555-0100 ', '+18005550100'],
  ])('turns %s into %s', (input, e164) => {
    expect(parseUsPhoneNumber(input)).toEqual({ ok: true, e164 });
  });

  it.each([
    '12',
    '415-555-010',
    '+44 20 7946 0958',
    'not a number',
    '',
    '415 555 0100 0000 0000 0000 0000 0000 0000 00',
  ])('refuses %j', (input) => {
    expect(parseUsPhoneNumber(input)).toEqual({ ok: false });
  });
});

describe('isTollFree', () => {
  it('knows the US toll-free area codes', () => {
    expect(['+18005550100', '+18335550100', '+18885550100'].map(isTollFree)).toEqual([true, true, true]);
    expect(['+14155550100', '+19175550100'].map(isTollFree)).toEqual([false, false]);
  });
});

describe('the +1 metadata the parse uses', () => {
  const fullMetadata = require('libphonenumber-js/metadata.min.json');
  const { nanpaMetadata } = require('../../lambdas/domain/nanpa-metadata-subset');
  const { parsePhoneNumberFromString: parseWithFullMetadata } = require('libphonenumber-js/min');
  /** parseUsPhoneNumber as it was with the package's whole "min" metadata. */
  const parseWithAll = (input: string) => {
    if (input.length > 40) return { ok: false };
    const parsed = parseWithFullMetadata(input.trim(), 'US');
    return parsed?.country === 'US' && parsed.isValid() ? { ok: true, e164: parsed.number } : { ok: false };
  };

  it('is the installed package’s metadata of calling code +1 (else: npx tsx scripts/nanpa-phone-metadata.ts)', () => {
    expect(require('../../lambdas/domain/nanpa-phone-metadata.json')).toEqual(nanpaMetadata(fullMetadata));
  });

  it('accepts and refuses the example number of every country as the whole metadata does', () => {
    const examples: Record<string, string> = require('libphonenumber-js/examples.mobile.json');
    const { getCountryCallingCode } = require('libphonenumber-js/min');
    for (const [country, national] of Object.entries(examples)) {
      const international = `+${getCountryCallingCode(country)} ${national}`;
      for (const input of [international, national, `011${international.slice(1)}`]) {
        expect([input, parseUsPhoneNumber(input)]).toEqual([input, parseWithAll(input)]);
      }
    }
  });

  it('answers what the whole metadata answers for any digits and punctuation, and any +1-shaped number', () => {
    const nanpaShaped = fc
      .tuple(
        fc.constantFrom('', '1', '+1 ', '+1', '011 1 '),
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: 0, max: 9999 }),
        fc.constantFrom(' ', '-', '.', ''),
      )
      .map(([prefix, area, exchange, line, sep]) =>
        [
          prefix,
          String(area).padStart(3, '0'),
          sep,
          String(exchange).padStart(3, '0'),
          sep,
          String(line).padStart(4, '0'),
        ].join(''),
      );
    fc.assert(
      fc.property(fc.oneof(fc.stringMatching(/^\+?[0-9 ().-]{0,24}$/), nanpaShaped), (input) => {
        expect(parseUsPhoneNumber(input)).toEqual(parseWithAll(input));
      }),
      { numRuns: 3000 },
    );
  });
});
