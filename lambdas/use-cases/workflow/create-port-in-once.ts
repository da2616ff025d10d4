import type { TwilioPortInSnapshot } from '../../domain/port-request';
import { TwilioRequestError } from '../../shared/errors';
import type { PortInRepository, TwilioAccountGateway, TwilioPortInCreateBody } from '../ports';

/** Twilio's refusal when a number is already in a port-in request (PORTING-FACTS). */
export const NUMBERS_ALREADY_IN_A_PORT_IN = 22137;
/** Twilio's refusal when a number is already in the target account: the lost request may have completed since. */
export const NUMBERS_ALREADY_IN_THE_ACCOUNT = 22131;
/** What a create refused because an earlier attempt of ours went through looks like. */
const TAKEN_BY_AN_EARLIER_ATTEMPT: ReadonlySet<number> = new Set([
  NUMBERS_ALREADY_IN_A_PORT_IN,
  NUMBERS_ALREADY_IN_THE_ACCOUNT,
]);

/**
 * Creates the Port In, or adopts the one an earlier attempt of ours created. Twilio's create takes no idempotency
 * key: an attempt whose answer was lost (answered after our timeout, or the process died before storing the sid)
 * leaves a request holding the numbers, and the retry is refused with 22137 (or 22131 once that request completed: a
 * crashed attempt can be retried after the port is done). So each port request records when it
 * first tried to create (`portInCreateAttemptedAt`, cleared once a sid is stored), and a 22137 after such an attempt
 * (or 22131) looks for a request, open or completed, created since then with exactly these numbers. A 22137 on a first attempt is a real
 * refusal (the numbers are in somebody else's request) and is thrown as it is.
 */
export async function createPortInOnce(
  gateway: TwilioAccountGateway,
  repository: PortInRepository,
  pr: { accountId: string; portRequestId: string; portInCreateAttemptedAt?: string },
  body: TwilioPortInCreateBody,
  now: string,
): Promise<{ sid: string; snapshot: TwilioPortInSnapshot; adopted: boolean }> {
  const earlierAttemptAt = pr.portInCreateAttemptedAt;
  if (!earlierAttemptAt) {
    await repository.updatePortRequest(pr.accountId, pr.portRequestId, (current) =>
      current.portInCreateAttemptedAt ? undefined : { ...current, portInCreateAttemptedAt: now },
    );
  }
  try {
    return { ...(await gateway.createPortIn(body)), adopted: false };
  } catch (error) {
    const taken = error instanceof TwilioRequestError && TAKEN_BY_AN_EARLIER_ATTEMPT.has(error.code ?? 0);
    if (!taken || !earlierAttemptAt) {
      throw error;
    }
    const found = await gateway.findOpenPortIn(
      body.phone_numbers.map((n) => n.phone_number),
      earlierAttemptAt,
    );
    if (!found) throw error;
    return { ...found, adopted: true };
  }
}
