import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import {
  type EmailTemplateName,
  EmailTemplateNames,
  formatNumber,
  type RenderedEmail,
  renderEmail,
} from '../../lambdas/domain/emails';
import { estimatedMonthlyCostUsd, type PortRequest } from '../../lambdas/domain/port-request';
import { toEmailData } from '../../lambdas/use-cases/workflow/deliver-emails';
import { headlessChromium } from '../support/chromium';

const SCREENSHOT_DIR = path.resolve(__dirname, '..', '..', 'test-output', 'emails');

// Customer-supplied text that would run if any template forgot to escape it: each sets the flag the test reads back.
const CARRIER_NAME = `Bell & Sons <script>window.__injected = 'carrier'</script>`;
const CUSTOMER_NAME = `Acme & Co <img src=x onerror="window.__injected = 'customer'"><script>window.__injected = 'customer'</script>`;
const REPRESENTATIVE = `Jane & Joe <script>window.__injected = 'representative'</script>Doe`;
const CUSTOMER_TEXT = [CARRIER_NAME, CUSTOMER_NAME, REPRESENTATIVE];
// Secrets that sit next to the email data in the port request: no email may ever show them.
const PIN = '739164';
const ACCOUNT_NUMBER = '830192746551';

const createdAt = '2026-11-02T15:00:00.000Z';

/** An API-route port of US numbers with a FOC date, one number rejected for a wrong PIN. */
const apiPort: PortRequest = {
  accountId: 'acct-emails',
  portRequestId: 'pr_api_01',
  orderId: 'ord_01',
  status: 'FOC_RECEIVED',
  route: 'API',
  losingCarrier: {
    name: CARRIER_NAME,
    customerType: 'Business',
    customerName: CUSTOMER_NAME,
    accountNumber: ACCOUNT_NUMBER,
    accountTelephoneNumber: '+14155550100',
    authorizedRepresentative: REPRESENTATIVE,
    authorizedRepresentativeEmail: 'jane@acme.example',
    address: { street: '1 Main St', city: 'San Francisco', state: 'CA', zip: '94105', country: 'US' },
    utilityBillDocumentSid: 'RD00000000000000000000000000000001',
  },
  pins: { '+14155550100': PIN, '+14155550101': PIN, '+14155550102': PIN },
  phoneNumbers: [
    {
      phoneNumber: '+14155550100',
      numberType: 'LOCAL',
      status: 'FOC_RECEIVED',
      focDate: '2026-11-13',
      imported: false,
    },
    {
      phoneNumber: '+14155550101',
      numberType: 'LOCAL',
      status: 'FOC_RECEIVED',
      focDate: '2026-11-13',
      imported: false,
    },
    {
      phoneNumber: '+14155550102',
      numberType: 'MOBILE',
      status: 'REJECTED',
      rejectionReason: 'INVALID_PIN',
      imported: false,
    },
  ],
  focDate: '2026-11-13',
  notificationEmails: ['ops@acme.example'],
  twilioAccountSid: 'AC00000000000000000000000000000001',
  twilioPortInRequestSid: 'KW00000000000000000000000000000001',
  events: [],
  outbox: [],
  createdAt,
  updatedAt: createdAt,
  version: 4,
};

/** Toll-free numbers, which Twilio's API cannot port: the customer does it in the console, we watch for them. */
const manualPort: PortRequest = {
  ...apiPort,
  portRequestId: 'pr_manual_01',
  status: 'MANUAL',
  route: 'MANUAL',
  pins: { '+18005550199': PIN, '+18885550123': PIN },
  phoneNumbers: [
    { phoneNumber: '+18005550199', numberType: 'TOLL_FREE', status: 'PENDING', imported: false },
    { phoneNumber: '+18885550123', numberType: 'TOLL_FREE', status: 'PENDING', imported: false },
  ],
  focDate: undefined,
  twilioPortInRequestSid: undefined,
};

/** The same port before Twilio set a FOC date: just submitted, or waiting for the LOA signature. */
const apiPortBeforeFoc: PortRequest = {
  ...apiPort,
  status: 'SUBMITTED',
  phoneNumbers: apiPort.phoneNumbers.map(({ focDate: _f, rejectionReason: _r, ...n }) => ({ ...n, status: 'PENDING' })),
  focDate: undefined,
};

// Emails that close a port request: no completion window or monthly cost to promise any more.
const CLOSING_TEMPLATES: ReadonlySet<EmailTemplateName> = new Set([
  'PORT_COMPLETED',
  'PORT_CANCELED',
  'PORT_EXPIRED',
  'PORT_FAILED',
  // Sent after the port completed (the numbers' test calls): no completion window to give.
  'NUMBERS_NOT_REACHING',
  'NUMBERS_STILL_NOT_REACHING',
]);

/** The port request as it stands when `template` goes out; templates added later get the open API port with its FOC. */
function portFor(template: EmailTemplateName): PortRequest {
  switch (template) {
    case 'MANUAL_PORT_INSTRUCTIONS':
      return manualPort;
    case 'PORT_SUBMITTED':
      return apiPortBeforeFoc;
    case 'LOA_SIGNATURE_NEEDED':
    case 'LOA_SIGNATURE_REMINDER':
      return { ...apiPortBeforeFoc, status: 'WAITING_FOR_SIGNATURE' };
    case 'PORT_EXPIRED':
      return { ...apiPortBeforeFoc, status: 'EXPIRED' };
    case 'PORT_FAILED':
      return { ...apiPortBeforeFoc, status: 'FAILED' };
    case 'FOC_DATE_CHANGED':
      return { ...apiPort, previousFocDate: '2026-11-11' };
    case 'ACTION_REQUIRED':
      return { ...apiPort, status: 'ACTION_REQUIRED' };
    case 'CORRECTION_SUBMITTED':
      return { ...apiPort, status: 'IN_REVIEW' };
    case 'PORT_CANCELED':
      return { ...apiPort, status: 'CANCELED' };
    case 'PORT_COMPLETED':
      // By completion the customer has sent the right PIN: every number ported and was imported into Ring Tonic.
      return {
        ...apiPort,
        status: 'COMPLETED',
        pins: undefined,
        phoneNumbers: apiPort.phoneNumbers.map(({ rejectionReason: _r, ...n }) => ({
          ...n,
          status: 'COMPLETED',
          imported: true,
          verification: { status: 'PASSED', detail: 'Our test call reached Ring Tonic.' },
        })),
      };
    case 'NUMBERS_NOT_REACHING':
    case 'NUMBERS_STILL_NOT_REACHING':
      // Ported and imported, but the last number's test call does not reach the account yet.
      return {
        ...apiPort,
        status: 'COMPLETED',
        pins: undefined,
        phoneNumbers: apiPort.phoneNumbers.map(({ rejectionReason: _r, ...n }, i, all) => ({
          ...n,
          status: 'COMPLETED',
          imported: true,
          verification:
            i === all.length - 1
              ? {
                  status: 'FAILED',
                  failure: 'CALL_DID_NOT_ARRIVE',
                  detail:
                    'Our test call did not reach your Twilio account: the old carrier may still be routing the number.',
                }
              : { status: 'PASSED', detail: 'Our test call reached Ring Tonic.' },
        })),
      };
    default:
      return apiPort;
  }
}

/** What a reader gets from one template: the email as sent and the page Chromium drew from its HTML. */
interface Seen {
  readonly email: RenderedEmail;
  readonly port: PortRequest;
  /** document.body.innerText: the words on screen, entities decoded, markup gone. */
  readonly view: string;
  readonly firstParagraph: string;
  readonly injected: unknown;
  readonly scriptElements: number;
  readonly screenshot: string;
  /** Pixels of the screenshot darker than the page's white: the ink a reader sees (0 when no glyph was drawn). */
  readonly inkedPixels: number;
}

/**
 * Counts the dark pixels of a PNG in the browser itself (decoded by an <img>, read back from a canvas), so a browser
 * that lays out words but draws no glyphs (no fonts) fails the test instead of leaving blank screenshots.
 */
const COUNT_INK = `async (base64) => {
  const image = new Image();
  image.src = 'data:image/png;base64,' + base64;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
  let inked = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i] + data[i + 1] + data[i + 2] < 3 * 160) inked += 1;
  return inked;
}`;

/** The line of what the reader sees that says `phrase`, so the text part can be held to the same sentence. */
function lineSaying(view: string, phrase: string | RegExp): string {
  const line = view
    .split('\n')
    .find((l) => (typeof phrase === 'string' ? l.toLowerCase().includes(phrase.toLowerCase()) : phrase.test(l)));
  if (line === undefined) throw new Error(`No line the reader sees says ${String(phrase)}:\n${view}`);
  return line.trim();
}

function usd(amount: number): string {
  return `$${amount.toFixed(2)}`;
}

describe('email templates as a reader sees them in headless Chromium', () => {
  let browser: Browser | undefined;
  let page: Page | undefined;
  const seen = new Map<EmailTemplateName, Promise<Seen>>();
  // One page draws every email, so renders must not overlap even if tests ever ask for two at once.
  let lastRender: Promise<unknown> = Promise.resolve();

  beforeAll(async () => {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const found = await headlessChromium();
    try {
      browser = await chromium.launch({
        executablePath: found.executablePath,
        args: found.args,
        env: { ...process.env, ...found.env },
      });
    } catch (error) {
      throw new Error(`Chromium from ${found.source} did not start: ${String(error)}`);
    }
    // About the width of a mail client's reading pane.
    page = await browser.newPage({ viewport: { width: 640, height: 480 } });
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Shows `html` as the only document of the page; going through about:blank gives it a fresh window object. */
  async function load(html: string): Promise<Page> {
    if (!page) throw new Error('Chromium did not start (see the beforeAll error)');
    await page.goto('about:blank');
    await page.setContent(html, { waitUntil: 'load' });
    return page;
  }

  async function inkIn(png: Buffer): Promise<number> {
    const blank = await load('<!doctype html><title>ink</title>');
    return blank.evaluate(`(${COUNT_INK})(${JSON.stringify(png.toString('base64'))})`);
  }

  async function render(template: EmailTemplateName): Promise<Seen> {
    const port = portFor(template);
    const email = renderEmail(template, toEmailData(port));
    const shown = await load(email.html);
    const screenshot = path.join(SCREENSHOT_DIR, `${template}.png`);
    const png = await shown.screenshot({ path: screenshot, fullPage: true });
    // biome-ignore lint/performance/useDomNodeTextContent: the laid-out words are the point here, as a reader sees them.
    const view = await shown.locator('body').innerText();
    const [firstParagraph = ''] = await shown.locator('p').allInnerTexts();
    const injected: unknown = await shown.evaluate('window.__injected');
    const scriptElements = await shown.locator('script').count();
    const inkedPixels = await inkIn(png);
    return { email, port, screenshot, view, firstParagraph, injected, scriptElements, inkedPixels };
  }

  // Each template is drawn once; every check below reads the same rendering.
  function see(template: EmailTemplateName): Promise<Seen> {
    let pending = seen.get(template);
    if (!pending) {
      pending = lastRender.then(() => render(template));
      lastRender = pending.catch(() => undefined);
      seen.set(template, pending);
    }
    return pending;
  }

  it('would notice customer text that runs as a script (the flag check is not vacuous)', async () => {
    const shown = await load(`<p>${CARRIER_NAME}</p>`);
    expect(await shown.evaluate('window.__injected')).toBe('carrier');
    // …and the next email starts without it, so one template's flag is never blamed on another.
    expect(await (await load('<p>next</p>')).evaluate('window.__injected')).toBeUndefined();
  });

  it('would notice a screenshot with no ink (the ink count is not vacuous)', async () => {
    const shown = await load('<body style="background:#fff;color:#fff"><p>white on white</p></body>');
    const png = await shown.screenshot({ fullPage: true });
    expect(await inkIn(png)).toBe(0);
    const black = await load('<body style="background:#fff;color:#000"><p>black on white</p></body>');
    expect(await inkIn(await black.screenshot({ fullPage: true }))).toBeGreaterThan(50);
  });

  it.each(EmailTemplateNames)('%s renders in Chromium and keeps a screenshot with words drawn', async (template) => {
    const { screenshot, view, inkedPixels } = await see(template);
    expect(statSync(screenshot).size).toBeGreaterThan(1000);
    expect(view.trim()).not.toBe('');
    // A line of 16 px text inks a few thousand pixels; every email has several lines.
    expect(inkedPixels).toBeGreaterThan(2000);
  });

  it.each(EmailTemplateNames.filter((t) => t !== 'PORT_COMPLETED'))(
    '%s tells the reader not to cancel the old service, in the subject or first paragraph, HTML and text alike',
    async (template) => {
      const { email, firstParagraph, view } = await see(template);
      expect(`${email.subject}\n${firstParagraph}`).toMatch(/do not cancel/i);
      expect(view).toContain(firstParagraph.trim());
      expect(email.text).toContain(email.subject);
      expect(email.text).toContain(firstParagraph.trim());
    },
  );

  it('PORT_COMPLETED says it is safe to cancel and lists every imported number, HTML and text alike', async () => {
    const { email, port, view } = await see('PORT_COMPLETED');
    const safe = lineSaying(view, 'safe to cancel');
    expect(email.text).toContain(safe);
    expect(view).not.toMatch(/do not cancel/i);
    // Written as people write US numbers: (415) 555-0100.
    const imported = port.phoneNumbers.filter((n) => n.imported).map((n) => formatNumber(n.phoneNumber));
    expect(imported).toHaveLength(3);
    for (const number of imported) {
      expect(view).toContain(number);
      expect(email.text).toContain(number);
    }
  });

  it.each(EmailTemplateNames.filter((t) => !CLOSING_TEMPLATES.has(t)))(
    '%s gives the completion window and what the numbers cost in Twilio, HTML and text alike',
    async (template) => {
      const { email, port, view } = await see(template);
      const window = lineSaying(view, port.route === 'MANUAL' ? '7 to 21' : '7 to 10 business days');
      const monthly = lineSaying(view, usd(estimatedMonthlyCostUsd(port.phoneNumbers)));
      const free = lineSaying(view, /\bfree\b/i);
      for (const sentence of [window, monthly, free]) expect(email.text).toContain(sentence);
    },
  );

  it.each(EmailTemplateNames)('%s shows customer text literally and runs none of it', async (template) => {
    const { email, view, injected, scriptElements } = await see(template);
    expect(injected).toBeUndefined();
    expect(scriptElements).toBe(0);
    expect(email.html).not.toMatch(/<script|<img src=x/i);
    // Every email names the carrier, so its markup must show as typed, in both parts.
    expect(view).toContain(CARRIER_NAME);
    expect(email.text).toContain(CARRIER_NAME);
    // Any other customer text an email shows is whole: its harmless start never appears without the rest.
    for (const typed of CUSTOMER_TEXT) {
      const start = typed.slice(0, typed.indexOf('<'));
      expect(view.split(start).length).toBe(view.split(typed).length);
    }
    // Escaped once, not twice: the reader sees "&" and "<", never the entities.
    expect(view).not.toMatch(/&(amp|lt|gt|quot|#39);/);
  });

  it.each(EmailTemplateNames)('%s shows no PIN and no full account number', async (template) => {
    const { email, view } = await see(template);
    for (const secret of [PIN, ACCOUNT_NUMBER]) {
      for (const part of [view, email.subject, email.html, email.text]) expect(part).not.toContain(secret);
    }
  });
});
