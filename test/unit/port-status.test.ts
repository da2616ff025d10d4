import {
  canTransition,
  mapTwilioNumberStatus,
  mapTwilioRequestStatus,
  normaliseTwilioStatus,
} from '../../lambdas/domain/port-status';

describe('Twilio status mapping', () => {
  it('normalises casing, spaces and underscores', () => {
    expect(['In Review', 'in_review', 'IN-REVIEW', ' in review '].map(normaliseTwilioStatus)).toEqual([
      'in_review',
      'in_review',
      'in_review',
      'in_review',
    ]);
  });

  it.each([
    ['In Review', 'IN_REVIEW'],
    ['Waiting for Signature', 'WAITING_FOR_SIGNATURE'],
    ['Action Required', 'ACTION_REQUIRED'],
    ['Completed', 'COMPLETED'],
    ['Expired', 'EXPIRED'],
    ['Canceled', 'CANCELED'],
  ])('maps request status %s to %s', (twilio, ours) => {
    expect(mapTwilioRequestStatus(twilio, [])).toBe(ours);
  });

  it('maps In Progress to SUBMITTED, to FOC_RECEIVED once a number has a FOC date, and to ACTION_REQUIRED on a rejection', () => {
    expect(mapTwilioRequestStatus('In progress', ['SUBMITTED'])).toBe('SUBMITTED');
    expect(mapTwilioRequestStatus('in_progress', ['SUBMITTED', 'FOC_RECEIVED'])).toBe('FOC_RECEIVED');
    expect(mapTwilioRequestStatus('In Progress', ['FOC_RECEIVED', 'REJECTED'])).toBe('ACTION_REQUIRED');
  });

  it('answers undefined for a status it does not know, so the caller keeps its own', () => {
    expect(mapTwilioRequestStatus('Something New', [])).toBeUndefined();
  });

  it.each([
    ['in_review', 'PENDING'],
    ['port_submitted', 'SUBMITTED'],
    ['port_pending', 'FOC_RECEIVED'],
    ['port_rejected', 'REJECTED'],
    ['canceling', 'CANCELED'],
    ['Completed', 'COMPLETED'],
    ['mystery', 'PENDING'],
  ])('maps number status %s to %s', (twilio, ours) => {
    expect(mapTwilioNumberStatus(twilio)).toBe(ours);
  });
});

describe('canTransition', () => {
  it('moves forward along the happy path only', () => {
    expect(canTransition('IN_REVIEW', 'SUBMITTED')).toBe(true);
    expect(canTransition('FOC_RECEIVED', 'SUBMITTED')).toBe(false);
    expect(canTransition('SUBMITTED', 'IN_REVIEW')).toBe(false);
  });

  it('never leaves a terminal status', () => {
    expect(canTransition('COMPLETED', 'IN_REVIEW')).toBe(false);
    expect(canTransition('CANCELED', 'COMPLETED')).toBe(false);
  });

  it('enters and leaves ACTION_REQUIRED', () => {
    expect(canTransition('FOC_RECEIVED', 'ACTION_REQUIRED')).toBe(true);
    expect(canTransition('ACTION_REQUIRED', 'IN_REVIEW')).toBe(true);
  });
});
