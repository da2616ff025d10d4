import { isTollFree } from './phone-numbers';
import type { LosingCarrier, NumberType, PortRoute } from './port-request';

/** Twilio allows at most 1,000 numbers in one Port In request. */
export const MAX_NUMBERS_PER_PORT_REQUEST = 1000;

/** Portability of one number as Twilio answered it, in our words. */
export interface Portability {
  readonly phoneNumber: string;
  readonly portable: boolean;
  readonly numberType: NumberType;
  readonly pinAndAccountNumberRequired: boolean;
  readonly reasonCode?: string;
  readonly reason?: string;
}

/** Twilio's code for "manual porting available": toll-free numbers, ported in Twilio's console. */
export const MANUAL_PORTING_REASON_CODE = '22133';

export interface OrderCarrier {
  readonly losingCarrier: LosingCarrier;
  readonly numbers: ReadonlyArray<{ readonly phoneNumber: string; readonly pin?: string }>;
  /** The carrier-account PIN, used for numbers that have none of their own. */
  readonly pin?: string;
}

export interface PortRequestDraft {
  /** Which losing carrier of the order this request comes from. */
  readonly carrierIndex: number;
  readonly route: PortRoute;
  readonly losingCarrier: LosingCarrier;
  readonly numbers: ReadonlyArray<{ readonly phoneNumber: string; readonly numberType: NumberType }>;
  readonly pins: Readonly<Record<string, string>>;
}

export interface SplitOrder {
  readonly drafts: readonly PortRequestDraft[];
  readonly notPortable: ReadonlyArray<{
    readonly phoneNumber: string;
    readonly reasonCode: string;
    readonly reason: string;
  }>;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * Splits an order into port requests: one per losing-carrier account (one LOA each), at most 1,000 numbers each;
 * toll-free numbers go into MANUAL requests, since Twilio's API cannot port them; numbers that cannot be ported
 * are left out and listed with the reason.
 */
export function splitOrder(
  carriers: readonly OrderCarrier[],
  portability: ReadonlyMap<string, Portability>,
): SplitOrder {
  const drafts: PortRequestDraft[] = [];
  const notPortable: Array<{ phoneNumber: string; reasonCode: string; reason: string }> = [];
  for (const [carrierIndex, carrier] of carriers.entries()) {
    const byRoute: Record<PortRoute, Array<{ phoneNumber: string; numberType: NumberType; pin?: string }>> = {
      API: [],
      MANUAL: [],
    };
    for (const number of carrier.numbers) {
      const check = portability.get(number.phoneNumber);
      const manual = isTollFree(number.phoneNumber) || check?.reasonCode === MANUAL_PORTING_REASON_CODE;
      if (manual) {
        byRoute.MANUAL.push({ phoneNumber: number.phoneNumber, numberType: 'TOLL_FREE', pin: number.pin });
      } else if (check?.portable) {
        byRoute.API.push({ phoneNumber: number.phoneNumber, numberType: check.numberType, pin: number.pin });
      } else {
        notPortable.push({
          phoneNumber: number.phoneNumber,
          reasonCode: check?.reasonCode ?? 'UNKNOWN',
          reason: check?.reason ?? 'Twilio could not confirm that this number can be ported.',
        });
      }
    }
    for (const route of ['API', 'MANUAL'] as const) {
      for (const numbers of chunk(byRoute[route], MAX_NUMBERS_PER_PORT_REQUEST)) {
        const pins: Record<string, string> = {};
        for (const n of numbers) {
          const pin = n.pin ?? carrier.pin;
          if (pin) pins[n.phoneNumber] = pin;
        }
        drafts.push({
          carrierIndex,
          route,
          losingCarrier: carrier.losingCarrier,
          numbers: numbers.map(({ phoneNumber, numberType }) => ({ phoneNumber, numberType })),
          pins,
        });
      }
    }
  }
  return { drafts, notPortable };
}
