import { parseUsPhoneNumber } from '../domain/phone-numbers';
import { type FieldError, HttpProblem } from '../shared/errors';
import type { Clock, PortInRepository, TwilioGateway, TwilioTokenStore } from './ports';
import { twilioForAccount } from './twilio-account';

interface ImportDeps {
  readonly repository: PortInRepository;
  readonly tokens: TwilioTokenStore;
  readonly twilio: TwilioGateway;
  readonly clock: Clock;
  readonly callRouterUrl: string;
}

/** GET importable-numbers: every number in the account's Twilio account, and whether it is in Ring Tonic yet. */
export async function listImportableNumbers(accountId: string, deps: Omit<ImportDeps, 'clock' | 'callRouterUrl'>) {
  const { gateway } = await twilioForAccount(accountId, deps);
  const [incoming, inventory] = await Promise.all([
    gateway.listIncomingPhoneNumbers(),
    deps.repository.listInventory(accountId),
  ]);
  const imported = new Set(inventory.map((n) => n.phoneNumber));
  return {
    items: incoming.map((n) => ({
      phoneNumber: n.phoneNumber,
      twilioSid: n.sid,
      friendlyName: n.friendlyName,
      imported: imported.has(n.phoneNumber),
    })),
  };
}

/**
 * POST imports: adds the selected numbers of the account's Twilio account to the Ring Tonic inventory and points
 * their voice webhook at the call router. Idempotent: a number imported before is reported, not imported again.
 */
export async function importSelectedNumbers(
  input: { accountId: string; phoneNumbers: readonly string[] },
  deps: ImportDeps,
) {
  const errors: FieldError[] = [];
  const wanted = new Map<string, number>();
  input.phoneNumbers.forEach((raw, index) => {
    const parsed = parseUsPhoneNumber(raw);
    if (!parsed.ok) errors.push({ path: `phoneNumbers[${index}]`, message: 'not a valid US phone number' });
    else if (wanted.has(parsed.e164)) {
      errors.push({
        path: `phoneNumbers[${index}]`,
        message: `${parsed.e164} is also at phoneNumbers[${wanted.get(parsed.e164)}]`,
      });
    } else wanted.set(parsed.e164, index);
  });
  if (errors.length > 0)
    throw new HttpProblem(400, 'Bad Request', 'Some phone numbers are invalid or repeated.', errors);

  const { gateway } = await twilioForAccount(input.accountId, deps);
  const [incoming, inventory] = await Promise.all([
    gateway.listIncomingPhoneNumbers(),
    deps.repository.listInventory(input.accountId),
  ]);
  const inAccount = new Map(incoming.map((n) => [n.phoneNumber, n]));
  const already = new Set(inventory.map((n) => n.phoneNumber));
  const result = { imported: [] as string[], alreadyImported: [] as string[], notInTwilioAccount: [] as string[] };
  for (const phoneNumber of wanted.keys()) {
    const number = inAccount.get(phoneNumber);
    if (!number) {
      result.notInTwilioAccount.push(phoneNumber);
      continue;
    }
    if (already.has(phoneNumber)) {
      result.alreadyImported.push(phoneNumber);
      continue;
    }
    if (number.voiceUrl !== deps.callRouterUrl) await gateway.setVoiceUrl(number.sid, deps.callRouterUrl);
    const added = await deps.repository.putInventoryNumberIfAbsent({
      accountId: input.accountId,
      phoneNumber,
      twilioSid: number.sid,
      source: 'IMPORTED',
      importedAt: deps.clock.now().toISOString(),
    });
    (added ? result.imported : result.alreadyImported).push(phoneNumber);
  }
  return result;
}
