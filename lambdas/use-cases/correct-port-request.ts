import { parseUsPhoneNumber } from '../domain/phone-numbers';
import type { LosingCarrier, PortRequest } from '../domain/port-request';
import { portWake, withEvent, withWake } from '../domain/port-request';
import { type FieldError, HttpProblem } from '../shared/errors';
import type { Clock, PortInRepository, WorkflowClient } from './ports';

/** The body of POST corrections: any losing-carrier field, PINs, a new utility bill. */
export interface PortCorrection extends Partial<Omit<LosingCarrier, 'address'>> {
  readonly address?: LosingCarrier['address'];
  /** A new carrier-account PIN, for every number still to port. */
  readonly pin?: string;
  readonly phoneNumbers?: ReadonlyArray<{ readonly phoneNumber: string; readonly pin: string }>;
}

/**
 * POST corrections (ACTION_REQUIRED only): records what the customer corrected and wakes the workflow, which
 * resubmits the port to Twilio; the same execution carries on. PINs are kept only until that resubmission.
 */
export async function correctPortRequest(
  input: { accountId: string; portRequestId: string; correction: PortCorrection },
  deps: { repository: PortInRepository; workflow: WorkflowClient; clock: Clock },
): Promise<PortRequest> {
  const { correction } = input;
  const pr = await deps.repository.getPortRequest(input.accountId, input.portRequestId);
  if (!pr) throw new HttpProblem(404, 'Not found', 'No such port request in this account.');
  if (pr.status !== 'ACTION_REQUIRED') {
    throw new HttpProblem(
      409,
      'Conflict',
      `Corrections are accepted in ACTION_REQUIRED only; the port request is ${pr.status}.`,
    );
  }
  const numberPins: Record<string, string> = {};
  const errors: FieldError[] = [];
  for (const [index, entry] of (correction.phoneNumbers ?? []).entries()) {
    const parsed = parseUsPhoneNumber(entry.phoneNumber);
    if (!parsed.ok || !pr.phoneNumbers.some((n) => n.phoneNumber === parsed.e164)) {
      errors.push({ path: `phoneNumbers[${index}].phoneNumber`, message: 'not a number of this port request' });
    } else {
      numberPins[parsed.e164] = entry.pin;
    }
  }
  if (errors.length > 0) throw new HttpProblem(400, 'Bad Request', 'Some corrections do not apply.', errors);

  const at = deps.clock.now().toISOString();
  const { pin, phoneNumbers: _numbers, ...carrierFields } = correction;
  const changed = Object.keys(correction).filter((k) => (correction as Record<string, unknown>)[k] !== undefined);
  const updated = await deps.repository.updatePortRequest(input.accountId, input.portRequestId, (current) => {
    if (current.status !== 'ACTION_REQUIRED') return undefined;
    const pins: Record<string, string> = { ...current.pins };
    for (const n of current.phoneNumbers) {
      if (pin && n.status !== 'COMPLETED') pins[n.phoneNumber] = pin;
    }
    Object.assign(pins, numberPins);
    const losingCarrier: LosingCarrier = { ...current.losingCarrier, ...carrierFields };
    return withEvent(
      // A wake: a workflow between two waits (no token stored) still sees the correction when it next waits.
      withWake({ ...current, losingCarrier, pins, correctionRequestedAt: at }, at),
      // Field names only: values may be PINs or account numbers.
      { at, type: 'CORRECTION_RECEIVED', detail: changed.join(', ') },
    );
  });
  if (updated.status !== 'ACTION_REQUIRED') {
    throw new HttpProblem(
      409,
      'Conflict',
      `Corrections are accepted in ACTION_REQUIRED only; the port request is ${updated.status}.`,
    );
  }
  if (updated.taskToken)
    await deps.workflow.completeTask(updated.taskToken, portWake(updated, 'correction', deps.clock.now()));
  return updated;
}
