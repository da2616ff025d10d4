import { type EmailData, EmailTemplateNames, renderEmail } from '../../lambdas/domain/emails';

const data: EmailData = {
  portRequestId: 'pr_1',
  status: 'SUBMITTED',
  losingCarrierName: 'Call<script>alert(1)</script>Rail',
  customerName: 'Acme',
  authorizedRepresentative: 'Jane <b>Doe</b>',
  route: 'API',
  phoneNumbers: [
    { phoneNumber: '+14155550100', status: 'REJECTED', rejectionReason: 'INVALID_PIN', imported: false },
    { phoneNumber: '+14155550101', status: 'COMPLETED', imported: true },
  ],
  focDate: '2026-12-01',
  expectedCompletion: { earliest: '2026-11-11', latest: '2026-11-16' },
  estimatedMonthlyCostUsd: 2.3,
};

describe('renderEmail', () => {
  it.each(EmailTemplateNames.filter((t) => t !== 'PORT_COMPLETED'))('%s says "do not cancel" up front', (template) => {
    const email = renderEmail(template, data);
    expect(`${email.subject}\n${email.text.split('\n\n')[1]}`.toLowerCase()).toContain('do not cancel');
  });

  it('says it is safe to cancel on completion and lists the imported numbers', () => {
    const email = renderEmail('PORT_COMPLETED', { ...data, status: 'COMPLETED' });
    expect(email.subject.toLowerCase()).toContain('safe to cancel');
    expect(email.text).toContain('- (415) 555-0101');
    expect(email.text.toLowerCase()).not.toContain('do not cancel');
  });

  const verified = (
    ...checks: Array<{ status: 'PASSED' | 'FAILED' | 'SKIPPED'; detail?: string; notTestCalled?: boolean }>
  ): EmailData => ({
    ...data,
    status: 'COMPLETED',
    twilioPortInRequestSid: `KW${'1'.repeat(32)}`,
    phoneNumbers: checks.map((verification, i) => ({
      phoneNumber: `+1415555020${i}`,
      status: 'COMPLETED',
      imported: true,
      verification,
    })),
  });

  it('names the numbers that do not reach Ring Tonic yet, with the reason, and says not to cancel', () => {
    const email = renderEmail(
      'NUMBERS_NOT_REACHING',
      verified({ status: 'PASSED' }, { status: 'FAILED', detail: 'Our test call did not reach your Twilio account.' }),
    );
    expect(email.subject).toContain('do not reach Ring Tonic yet');
    expect(email.text).toContain('- (415) 555-0201: Our test call did not reach your Twilio account.');
    expect(email.text).not.toContain('- (415) 555-0200');
    expect(email.text).toContain('about every 15 minutes for 48 hours');
  });

  it('tells what to do after 48 hours: Twilio support, with the port-in sid', () => {
    const email = renderEmail('NUMBERS_STILL_NOT_REACHING', verified({ status: 'FAILED', detail: 'x' }));
    expect(email.text).toContain(
      `contact Twilio support (help.twilio.com), give them your port-in request KW${'1'.repeat(32)}`,
    );
    expect(email.subject.toLowerCase()).toContain('do not cancel');
  });

  it('says in the "safe to cancel" email whether each number was test-called', () => {
    expect(renderEmail('PORT_COMPLETED', verified({ status: 'PASSED' })).text).toContain(
      'We test-called every number: each call reached Ring Tonic.',
    );
    expect(renderEmail('PORT_COMPLETED', verified({ status: 'PASSED', notTestCalled: true })).text).toContain(
      'could not test-call (415) 555-0200: your Twilio account has no other number to call from',
    );
    expect(renderEmail('PORT_COMPLETED', verified({ status: 'SKIPPED' })).text).toContain(
      'These numbers were not test-called (number verification is switched off',
    );
  });

  it('escapes customer text in HTML', () => {
    const email = renderEmail('PORT_SUBMITTED', data);
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('Call&lt;script&gt;');
  });

  it('explains each rejection in plain words with the fix', () => {
    const email = renderEmail('ACTION_REQUIRED', { ...data, status: 'ACTION_REQUIRED' });
    expect(email.text).toContain('(415) 555-0100: The port-out PIN was missing or wrong.');
    expect(email.text).not.toContain('(415) 555-0101:');
  });
});
