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
