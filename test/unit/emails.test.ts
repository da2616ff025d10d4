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
