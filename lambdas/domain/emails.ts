import type { PhoneNumberStatus, PortRequestStatus } from './port-status';

/** One template per event the customer hears about. */
export const EmailTemplateNames = [
  'PORT_SUBMITTED',
  'LOA_SIGNATURE_NEEDED',
  'LOA_SIGNATURE_REMINDER',
  'DO_NOT_CANCEL_REMINDER',
  'FOC_DATE_SET',
  'FOC_DATE_CHANGED',
  'FOC_TOMORROW_REMINDER',
  'ACTION_REQUIRED',
  'CORRECTION_SUBMITTED',
  'PORT_COMPLETED',
  'PORT_CANCELED',
  'PORT_EXPIRED',
  'PORT_FAILED',
  'MANUAL_PORT_INSTRUCTIONS',
  'NUMBERS_NOT_REACHING',
  'NUMBERS_STILL_NOT_REACHING',
] as const;
export type EmailTemplateName = (typeof EmailTemplateNames)[number];

/** The typed data every template renders from. Holds no PIN and no account number. */
export interface EmailData {
  readonly portRequestId: string;
  readonly status: PortRequestStatus;
  readonly losingCarrierName: string;
  readonly customerName: string;
  /** Who signs the Letter of Authorization that Twilio emails. */
  readonly authorizedRepresentative: string;
  readonly route: 'API' | 'MANUAL';
  readonly phoneNumbers: ReadonlyArray<{
    readonly phoneNumber: string;
    readonly status: PhoneNumberStatus;
    readonly rejectionReason?: string;
    readonly imported: boolean;
    /** Whether calls to it reach Ring Tonic (see the port request's `verification`). */
    readonly verification?: {
      readonly status: 'PENDING' | 'PASSED' | 'FAILED' | 'SKIPPED';
      readonly detail?: string;
      readonly notTestCalled?: boolean;
    };
  }>;
  /** Twilio's Port In request (KW…), for the customer to quote to Twilio support. */
  readonly twilioPortInRequestSid?: string;
  readonly focDate?: string;
  readonly previousFocDate?: string;
  readonly expectedCompletion: { readonly earliest: string; readonly latest: string };
  readonly estimatedMonthlyCostUsd: number;
  /** The carrier's numbers still porting in the order's other requests: then it is not yet safe to cancel. */
  readonly carrierNumbersStillPorting?: readonly string[];
}

export interface RenderedEmail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/** Escapes customer-supplied text for HTML. */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const DO_NOT_CANCEL = 'Do not cancel your service with';

/** Plain-words explanation and fix for each of Twilio's rejection reasons. */
const REJECTION_HELP: Record<string, { reason: string; fix: string }> = {
  INVALID_END_USER_NAME: {
    reason: "The name on the request does not match the old carrier's record.",
    fix: 'Send us the account holder name exactly as it appears on your bill from the old carrier.',
  },
  INVALID_ADDRESS: {
    reason: "The service address does not match the old carrier's record.",
    fix: 'Send us the service address exactly as it appears on your bill from the old carrier.',
  },
  INVALID_PIN: {
    reason: 'The port-out PIN was missing or wrong.',
    fix: 'Ask your old carrier for the port-out PIN (sometimes called a transfer PIN) and send it to us.',
  },
  INVALID_ACCOUNT_NUMBER: {
    reason: 'The account number does not match the old carrier.',
    fix: 'Send us the account number shown on your bill from the old carrier.',
  },
  PHONE_NUMBER_WITH_CARRIER_RESTRICTION: {
    reason: 'The old carrier has a restriction on this number, often an unpaid balance or a port freeze.',
    fix: 'Ask your old carrier to lift any port freeze and settle any balance, then tell us to resubmit.',
  },
  PHONE_NUMBER_INACTIVE_OR_DISCONNECTED: {
    reason: 'The old carrier says this number is not active.',
    fix: 'Check with your old carrier that the number is still active on your account; keep paying for it.',
  },
  CONTACT_SUPPORT_REQUIRED: {
    reason: 'The old carrier rejected the request for a reason that needs a person to look at it.',
    fix: 'Reply to this email and our team will work it out with you.',
  },
};

/** The reason and fix in plain words for a Twilio rejection reason (unknown ones get a safe default). */
export function explainRejection(code: string | undefined): { reason: string; fix: string } {
  return (
    REJECTION_HELP[code ?? ''] ?? {
      reason: 'The old carrier rejected this number.',
      fix: 'Reply to this email and our team will work it out with you.',
    }
  );
}

/** What each status means, in the customer's words. */
const STATUS_WORDS: Record<PortRequestStatus, string> = {
  SUBMITTING: 'we are submitting the request',
  IN_REVIEW: 'Twilio is reviewing the request',
  WAITING_FOR_SIGNATURE: 'the Letter of Authorization is waiting for a signature',
  SUBMITTED: 'the request is with your old carrier',
  FOC_RECEIVED: 'your old carrier has set the port date',
  ACTION_REQUIRED: 'your old carrier needs corrections',
  COMPLETED: 'the port is complete',
  CANCELED: 'the port was canceled',
  EXPIRED: 'the request expired',
  FAILED: 'we could not submit the request',
  MANUAL: "waiting for the port in Twilio's console",
};

/** "+14155550100" → "(415) 555-0100", as people write US numbers; others stay E.164. */
export function formatNumber(e164: string): string {
  const us = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return us ? `(${us[1]}) ${us[2]}-${us[3]}` : e164;
}

function usd(amount: number): string {
  return `$${amount.toFixed(2)}`;
}

interface Body {
  readonly subject: string;
  readonly paragraphs: readonly string[];
  readonly list?: readonly string[];
}

function body(template: EmailTemplateName, d: EmailData): Body {
  const carrier = d.losingCarrierName;
  const numbers = d.phoneNumbers.map((n) =>
    n.status === 'REJECTED'
      ? `${formatNumber(n.phoneNumber)} (rejected by ${d.losingCarrierName}: see what to fix)`
      : formatNumber(n.phoneNumber),
  );
  const window =
    d.expectedCompletion.earliest === d.expectedCompletion.latest
      ? d.expectedCompletion.earliest
      : `${d.expectedCompletion.earliest} to ${d.expectedCompletion.latest}`;
  const keep = `${DO_NOT_CANCEL} ${carrier} yet: cancelling it before the port completes releases your numbers for good.`;
  const cost = `Porting in is free; once ported, these numbers cost about ${usd(d.estimatedMonthlyCostUsd)} a month in Twilio.`;
  const expected =
    d.route === 'MANUAL'
      ? `Toll-free ports usually complete in 7 to 21 business days (expected ${window}).`
      : `US local ports usually complete in 7 to 10 business days (expected ${window}).`;
  switch (template) {
    case 'PORT_SUBMITTED':
      return {
        subject: `Do not cancel your ${carrier} service yet: your port request is submitted`,
        paragraphs: [
          keep,
          `We submitted your request to move these numbers from ${carrier}. The authorized representative will get a Letter of Authorization to sign from Twilio.`,
          expected,
          cost,
        ],
        list: numbers,
      };
    case 'LOA_SIGNATURE_NEEDED':
      return {
        subject: `Do not cancel your ${carrier} service yet: please sign the Letter of Authorization`,
        paragraphs: [
          keep,
          `Twilio has emailed a Letter of Authorization to ${d.authorizedRepresentative}. The port cannot start until it is signed: please sign it within a few days, or the request expires.`,
          expected,
          cost,
        ],
        list: numbers,
      };
    case 'LOA_SIGNATURE_REMINDER':
      return {
        subject: `Reminder: sign the Letter of Authorization, and do not cancel your ${carrier} service yet`,
        paragraphs: [
          keep,
          `The Letter of Authorization Twilio emailed to ${d.authorizedRepresentative} is still not signed. Please sign it: unsigned requests expire.`,
          expected,
          cost,
        ],
        list: numbers,
      };
    case 'FOC_DATE_CHANGED':
      return {
        subject: `Do not cancel your ${carrier} service yet: your port date moved to ${d.focDate ?? 'a new date'}`,
        paragraphs: [
          keep,
          `${carrier} changed the port date (FOC) from ${d.previousFocDate ?? 'the earlier date'} to ${d.focDate ?? 'a date to be confirmed'}. Keep the old service running until we tell you it is safe.`,
          expected,
          cost,
        ],
        list: numbers,
      };
    case 'FOC_TOMORROW_REMINDER':
      return {
        subject: `Reminder: your numbers move on ${d.focDate ?? 'the port date'}, and do not cancel your ${carrier} service yet`,
        paragraphs: [
          keep,
          `Your numbers are due to move on ${d.focDate ?? 'the port date'}. Even then, wait for our email saying it is safe: a port can slip on the day.`,
          expected,
          cost,
        ],
        list: numbers,
      };
    case 'CORRECTION_SUBMITTED':
      return {
        subject: `Do not cancel your ${carrier} service yet: we resubmitted your port request`,
        paragraphs: [
          keep,
          `Thank you for the corrections. We resubmitted the request to ${carrier}; the authorized representative may get a new Letter of Authorization to sign.`,
          expected,
          cost,
        ],
        list: numbers,
      };
    case 'DO_NOT_CANCEL_REMINDER':
      return {
        subject: `Reminder: do not cancel your ${carrier} service yet`,
        paragraphs: [keep, `Your port is still in progress: ${STATUS_WORDS[d.status]}.`, expected, cost],
        list: numbers,
      };
    case 'FOC_DATE_SET':
      return {
        subject: `Do not cancel your ${carrier} service yet: your numbers move on ${d.focDate ?? 'the date set'}`,
        paragraphs: [
          keep,
          `${carrier} confirmed the port date (FOC): ${d.focDate ?? 'to be confirmed'}. We will tell you when it is safe to cancel.`,
          expected,
          cost,
        ],
        list: numbers,
      };
    case 'ACTION_REQUIRED': {
      const rejected = d.phoneNumbers.filter((n) => n.status === 'REJECTED');
      return {
        subject: `Action required, and do not cancel your ${carrier} service yet`,
        paragraphs: [
          keep,
          `${carrier} rejected part of the port request. Here is what to fix; once you correct it we resubmit at once.`,
          expected,
          cost,
        ],
        list: (rejected.length > 0 ? rejected : d.phoneNumbers).map((n) => {
          const help = explainRejection(n.rejectionReason);
          return `${formatNumber(n.phoneNumber)}: ${help.reason} ${help.fix}`;
        }),
      };
    }
    case 'PORT_COMPLETED': {
      const importedNumbers = d.phoneNumbers.filter((n) => n.imported);
      const imported = importedNumbers.map((n) => {
        const v = n.verification;
        if (v?.status === 'SKIPPED') return `${formatNumber(n.phoneNumber)} (not test-called)`;
        if (v?.notTestCalled) return `${formatNumber(n.phoneNumber)} (not test-called: please call it once)`;
        return v?.status === 'PASSED'
          ? `${formatNumber(n.phoneNumber)} (test call reached Ring Tonic)`
          : formatNumber(n.phoneNumber);
      });
      const verificationWords = verificationParagraph(importedNumbers);
      const stillPorting = d.carrierNumbersStillPorting ?? [];
      if (stillPorting.length > 0) {
        const others =
          stillPorting.length === 1 ? 'another of your numbers is' : `${stillPorting.length} more of your numbers are`;
        return {
          subject: `These numbers are ported: do not cancel your ${carrier} service yet`,
          paragraphs: [
            `These numbers have moved to your Twilio account and are live in Ring Tonic. ${DO_NOT_CANCEL} ${carrier}: ${others} still moving from ${carrier} (${stillPorting.map(formatNumber).join(', ')}), and cancelling now would lose ${stillPorting.length === 1 ? 'it' : 'them'}. We will email you when it is safe.`,
            cost,
            'Imported numbers:',
          ],
          list: imported,
        };
      }
      return {
        subject: `Your numbers are ported: it is now safe to cancel your ${carrier} service`,
        paragraphs: [
          `Your numbers have moved to your Twilio account and are live in Ring Tonic. It is now safe to cancel your old service with ${carrier}.`,
          ...(verificationWords ? [verificationWords] : []),
          cost,
          'Imported numbers:',
        ],
        list: imported,
      };
    }
    case 'PORT_CANCELED':
      return {
        subject: `Port canceled: do not cancel your ${carrier} service`,
        paragraphs: [
          `The port request was canceled. ${DO_NOT_CANCEL} ${carrier}: your numbers stay there and still need that service.`,
        ],
        list: numbers,
      };
    case 'PORT_EXPIRED':
      return {
        subject: `Port request expired: do not cancel your ${carrier} service`,
        paragraphs: [
          `The port request expired before the Letter of Authorization was signed. ${DO_NOT_CANCEL} ${carrier}: your numbers are still there.`,
          'To try again, place a new port order in Ring Tonic and have the authorized representative sign the letter from Twilio within a few days.',
        ],
        list: numbers,
      };
    case 'PORT_FAILED':
      return {
        subject: `We could not submit your port request: do not cancel your ${carrier} service`,
        paragraphs: [
          `We could not submit the request to move your numbers from ${carrier}. ${DO_NOT_CANCEL} ${carrier}: your numbers are still there.`,
          'Our team has been alerted and will contact you.',
        ],
        list: numbers,
      };
    case 'NUMBERS_NOT_REACHING': {
      const failing = d.phoneNumbers.filter((n) => n.verification?.status === 'FAILED');
      return {
        subject: `Do not cancel your ${carrier} service yet: some numbers do not reach Ring Tonic yet`,
        paragraphs: [
          `${DO_NOT_CANCEL} ${carrier} yet. The port is complete in Twilio, but our test calls show that calls to the numbers below do not reach Ring Tonic yet: cancelling now could lose those calls.`,
          'This often clears by itself within hours, once the old carrier finishes moving the numbers. We test-call them again about every 15 minutes for 48 hours, and email you as soon as every number works.',
        ],
        list: failing.map(
          (n) => `${formatNumber(n.phoneNumber)}: ${n.verification?.detail ?? 'Calls do not reach Ring Tonic yet.'}`,
        ),
      };
    }
    case 'NUMBERS_STILL_NOT_REACHING': {
      const failing = d.phoneNumbers.filter((n) => n.verification?.status === 'FAILED');
      const sid = d.twilioPortInRequestSid;
      return {
        subject: `Do not cancel your ${carrier} service: these numbers still do not reach Ring Tonic`,
        paragraphs: [
          `${DO_NOT_CANCEL} ${carrier}. For 48 hours our test calls to the numbers below have not reached Ring Tonic, and we have stopped re-checking them.`,
          sid
            ? `What to do: contact Twilio support (help.twilio.com), give them your port-in request ${sid}, and ask them to check that calls to these numbers are routed to your Twilio account.`
            : "What to do: contact Twilio support (help.twilio.com) about the port you did in Twilio's console, and ask them to check that calls to these numbers are routed to your Twilio account.",
          "Also check in Twilio's console that each number's voice URL still points to Ring Tonic. Our team has been alerted and will help: reply to this email with what Twilio says. Until we email you that it is safe, keep your old service.",
        ],
        list: failing.map(
          (n) => `${formatNumber(n.phoneNumber)}: ${n.verification?.detail ?? 'Calls do not reach Ring Tonic.'}`,
        ),
      };
    }
    case 'MANUAL_PORT_INSTRUCTIONS':
      return {
        subject: `Do not cancel your ${carrier} service yet: steps to port your toll-free numbers`,
        paragraphs: [
          keep,
          "Toll-free numbers are ported through Twilio's console: sign in to your Twilio account, open Phone Numbers > Port & Host > Port In, choose toll-free, and submit these numbers with a recent bill from your old carrier.",
          'We watch your Twilio account and import the numbers as soon as they arrive.',
          expected,
          cost,
        ],
        list: numbers,
      };
  }
}

/** What the "safe to cancel" email says of the test calls: made, not made for some numbers, or switched off. */
function verificationParagraph(numbers: EmailData['phoneNumbers']): string | undefined {
  if (numbers.length === 0) return undefined;
  if (numbers.every((n) => n.verification?.status === 'SKIPPED')) {
    return 'These numbers were not test-called (number verification is switched off for this service): call each of them once to check it rings through before you cancel.';
  }
  const notCalled = numbers.filter((n) => n.verification?.notTestCalled);
  if (notCalled.length > 0) {
    return `We checked every number in Twilio, but could not test-call ${notCalled.map((n) => formatNumber(n.phoneNumber)).join(', ')}: your Twilio account has no other number to call from. Call ${notCalled.length === 1 ? 'it' : 'each of them'} once to check it rings through before you cancel.`;
  }
  return 'We test-called every number: each call reached Ring Tonic.';
}

/** Renders a template to subject, HTML and text. Customer text is escaped in the HTML. */
export function renderEmail(template: EmailTemplateName, data: EmailData): RenderedEmail {
  const b = body(template, data);
  const htmlList = b.list?.length ? `<ul>${b.list.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>` : '';
  const greeting = `Hello ${data.customerName},`;
  const html = [
    '<!doctype html><html><head><meta charset="utf-8"></head>',
    '<body style="font-family:Arial,sans-serif;line-height:1.5;color:#1b1f24">',
    '<div style="max-width:600px;margin:0 auto">',
    `<h1 style="font-size:20px">${escapeHtml(b.subject)}</h1>`,
    `<p>${escapeHtml(greeting)}</p>`,
    ...b.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    htmlList,
    `<p style="color:#57606a;font-size:12px">Port request ${escapeHtml(data.portRequestId)} · Ring Tonic</p>`,
    '</div></body></html>',
  ].join('');
  const text = [
    b.subject,
    '',
    greeting,
    '',
    ...b.paragraphs,
    ...(b.list?.length ? ['', ...b.list.map((item) => `- ${item}`)] : []),
    '',
    `Port request ${data.portRequestId} · Ring Tonic`,
  ].join('\n');
  return { subject: b.subject, html, text };
}
