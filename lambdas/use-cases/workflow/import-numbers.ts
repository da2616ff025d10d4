import { type PortRequest, type PortRequestNumber, withEmail, withEvent } from '../../domain/port-request';
import { TwilioTransientError } from '../../shared/errors';
import {
  DYNAMODB_WRITE_CONCURRENCY,
  mapWithConcurrency,
  TWILIO_CONCURRENCY,
  twilioForAccount,
} from '../twilio-account';
import type { WorkflowDeps } from './submit-port-in';

/**
 * ImportNumbers: once the port completed, points each ported number's voice URL at the call router and adds it to
 * the Ring Tonic inventory. With `verifyNumbers` the numbers' verification is PENDING and VerifyNumbers owes the
 * "safe to cancel" email once they pass; without, they are SKIPPED and the email is owed here. Safe to run again:
 * done numbers are skipped.
 */
export async function importPortedNumbers(
  input: { accountId: string; portRequestId: string },
  deps: WorkflowDeps & { callRouterUrl: string; verifyNumbers: boolean },
): Promise<{ imported: string[] }> {
  const pr = await deps.repository.getPortRequest(input.accountId, input.portRequestId);
  if (!pr) throw new Error(`Port request ${input.portRequestId} not found`);
  const toImport = pr.phoneNumbers.filter((n) => n.status === 'COMPLETED' && !n.imported);
  const { gateway } = await twilioForAccount(input.accountId, deps);
  const inAccount = new Map((await gateway.listIncomingPhoneNumbers()).map((n) => [n.phoneNumber, n]));
  const missing = toImport.filter((n) => !inAccount.has(n.phoneNumber));
  if (missing.length > 0) {
    // Twilio marks a port complete a little before the numbers show in the account: retry.
    throw new TwilioTransientError(`${missing.length} ported numbers are not in the Twilio account yet`);
  }
  const at = deps.clock.now().toISOString();
  // Twilio's slots do Twilio's work only (its concurrency limit is the floor); the inventory writes, which do not
  // depend on each other, follow in a pool of their own. A retry redoes neither: voice URLs already set and
  // inventory items already there are skipped.
  await mapWithConcurrency(toImport, TWILIO_CONCURRENCY, async (number) => {
    const incoming = inAccount.get(number.phoneNumber);
    if (incoming && incoming.voiceUrl !== deps.callRouterUrl) {
      await gateway.setVoiceUrl(incoming.sid, deps.callRouterUrl);
    }
  });
  await mapWithConcurrency(toImport, DYNAMODB_WRITE_CONCURRENCY, async (number) => {
    const incoming = inAccount.get(number.phoneNumber);
    if (!incoming) return;
    await deps.repository.putInventoryNumberIfAbsent({
      accountId: input.accountId,
      phoneNumber: number.phoneNumber,
      twilioSid: incoming.sid,
      source: 'PORTED',
      portRequestId: input.portRequestId,
      importedAt: at,
    });
  });
  const done = new Set(toImport.map((n) => n.phoneNumber));
  let finishedNow = false;
  await deps.repository.updatePortRequest(input.accountId, input.portRequestId, (current) => {
    const verification = deps.verifyNumbers
      ? ({ status: 'PENDING' } as const)
      : ({
          status: 'SKIPPED',
          checkedAt: at,
          detail: 'Not test-called: number verification is switched off.',
        } as const);
    const phoneNumbers = current.phoneNumbers.map(
      (n): PortRequestNumber =>
        done.has(n.phoneNumber) ? { ...n, imported: true, verification: n.verification ?? verification } : n,
    );
    let next: PortRequest = { ...current, phoneNumbers };
    if (done.size > 0) next = withEvent(next, { at, type: 'NUMBERS_IMPORTED', detail: [...done].join(', ') });
    finishedNow = !current.importedAt;
    if (finishedNow) next = { ...next, importedAt: at };
    if (!deps.verifyNumbers && !current.outbox.some((e) => e.template === 'PORT_COMPLETED')) {
      next = withEmail(next, 'PORT_COMPLETED', at);
    }
    return next;
  });
  // The port is finished (completed at Twilio, its numbers imported) at its first import; verification follows.
  if (finishedNow) deps.metrics.count('PortsCompleted');
  return { imported: [...done] };
}
