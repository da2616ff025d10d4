import { parseUsPhoneNumber } from '../domain/phone-numbers';
import type { Portability } from '../domain/split-order';
import type { PortInRepository, TwilioAccountGateway, TwilioGateway, TwilioTokenStore } from './ports';
import { mapWithConcurrency, TWILIO_CONCURRENCY, twilioForAccount } from './twilio-account';

export interface PortabilityResult extends Omit<Portability, 'phoneNumber'> {
  readonly input: string;
  readonly phoneNumber: string | null;
}

/** Asks Twilio, once per distinct number, whether each number can be ported; answers in the given order. */
export async function lookUpPortability(
  gateway: TwilioAccountGateway,
  phoneNumbers: readonly string[],
): Promise<Map<string, Portability>> {
  const distinct = [...new Set(phoneNumbers)];
  const results = await mapWithConcurrency(distinct, TWILIO_CONCURRENCY, (n) => gateway.checkPortability(n));
  return new Map(results.map((r) => [r.phoneNumber, r]));
}

/** POST portability-checks: one result per input; an unparseable number is a result, not an error. */
export async function checkPortability(
  input: { accountId: string; phoneNumbers: readonly string[] },
  deps: { repository: PortInRepository; tokens: TwilioTokenStore; twilio: TwilioGateway },
): Promise<PortabilityResult[]> {
  const parsed = input.phoneNumbers.map((raw) => ({ raw, parsed: parseUsPhoneNumber(raw) }));
  const valid = parsed.flatMap((p) => (p.parsed.ok ? [p.parsed.e164] : []));
  const { gateway } = await twilioForAccount(input.accountId, deps);
  const byNumber = await lookUpPortability(gateway, valid);
  return parsed.map(({ raw, parsed: p }): PortabilityResult => {
    if (!p.ok) {
      return {
        input: raw,
        phoneNumber: null,
        portable: false,
        numberType: 'UNKNOWN',
        pinAndAccountNumberRequired: false,
        reasonCode: 'INVALID_PHONE_NUMBER',
        reason: 'This is not a valid US phone number.',
      };
    }
    const result = byNumber.get(p.e164) as Portability;
    const { phoneNumber: _p, ...rest } = result;
    return { input: raw, phoneNumber: p.e164, ...rest };
  });
}
