import { createHash } from 'node:crypto';
import fc from 'fast-check';

/**
 * fast-check arbitraries for the API fuzz test (test/fuzz/api-fuzz.test.ts). Every structured body they build is
 * a valid body of CONTRACT.md with at least one rule broken on purpose, and says which: the test can then demand a
 * 4xx that names the field, and that nothing was stored. The rules are restated here from CONTRACT.md rather than
 * imported from the handlers' schemas, so that a schema that lets something through is caught, not mirrored.
 */

export type PathPart = string | number;

/** One rule a fuzzed body breaks: the value put at `path` (or its removal), which the API must refuse. */
export interface Violation {
  readonly path: readonly PathPart[];
  readonly rule: string;
  readonly remove?: true;
  readonly value?: unknown;
}

/** A body to send and the rules it breaks (none: refused for another reason, e.g. Twilio not connected). */
export interface FuzzBody {
  readonly body: unknown;
  readonly violations: readonly Violation[];
}

/** What the arbitraries need to know about the running stack. */
export interface FuzzContext {
  /** The connected account's utility bill (RD…), so a base port order is complete. */
  readonly documentSid: string;
  /** E.164 numbers held by the connected account's open port request: ordering them again is a 409. */
  readonly claimedNumbers: readonly string[];
  /** Account SIDs the simulator already knows, tried only with wrong tokens (a new SID would be accepted). */
  readonly knownAccountSids: readonly string[];
  /** Their real tokens, never sent. */
  readonly realAuthTokens: readonly string[];
  /** Today (UTC), for target dates that are too soon. */
  readonly today: Date;
}

/** A field path as the API's problem+json `errors` writes it: `losingCarriers[0].address.zip`, root `(body)`. */
export function formatPath(path: readonly PathPart[]): string {
  const text = path.reduce<string>(
    (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part),
    '',
  );
  return text || '(body)';
}

/** True when an `errors[].path` points at the broken field, one of its parents, or one of its children. */
export function pathsRelated(errorPath: string, violationPath: string): boolean {
  if (errorPath === '(body)' || violationPath === '(body)') return true;
  const within = (inner: string, outer: string) =>
    inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);
  return within(errorPath, violationPath) || within(violationPath, errorPath);
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function navigate(body: unknown, path: readonly PathPart[]): unknown {
  let current = body;
  for (const part of path) {
    if (Array.isArray(current) && typeof part === 'number' && part < current.length) current = current[part];
    else if (isRecord(current) && typeof part === 'string' && Object.hasOwn(current, part)) current = current[part];
    else return undefined;
  }
  return current;
}

/**
 * Applies violations in order to a copy of a valid body. One whose parent an earlier violation replaced is skipped
 * (the earlier one still breaks the body); the last applied one always survives, so the result is always invalid.
 * Keys are defined, not assigned, so that `__proto__` becomes an own JSON key as a hostile client would send it.
 */
export function applyViolations(base: unknown, violations: readonly Violation[]): FuzzBody {
  let body = clone(base);
  const applied: Violation[] = [];
  for (const violation of violations) {
    if (violation.path.length === 0) {
      body = clone(violation.value);
      applied.push(violation);
      continue;
    }
    const parent = navigate(body, violation.path.slice(0, -1));
    const key = violation.path.at(-1);
    if (Array.isArray(parent) && typeof key === 'number' && key < parent.length && !violation.remove) {
      parent[key] = violation.value;
    } else if (isRecord(parent) && typeof key === 'string') {
      if (violation.remove) delete parent[key];
      else Object.defineProperty(parent, key, { value: violation.value, enumerable: true, writable: true });
    } else {
      continue;
    }
    applied.push(violation);
  }
  return { body, violations: applied };
}

// ---------------------------------------------------------------------------------------------------------------
// Values that break one rule each.

type Kind = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object';

const kindOf = (value: unknown): Kind =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : (typeof value as 'string' | 'number' | 'boolean');

const smallJson = fc.jsonValue({ maxDepth: 2 });

/** A JSON value of any type but `kind`: a number where a string belongs, an array where an object belongs… */
export function notA(kind: Kind): fc.Arbitrary<unknown> {
  return fc
    .oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.array(smallJson, { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 6 }), smallJson, { maxKeys: 3 }),
      fc.string({ maxLength: 12 }),
    )
    .filter((value) => kindOf(value) !== kind);
}

/** Characters that no trim removes, from ASCII to astral, quotes, escapes, NUL and bidi overrides. */
const solidChar = fc.constantFrom('a', 'Z', '7', '"', '\\', '<', '%', '\u0000', 'é', '漢', '\u202e', '😀');

/** A string longer than `max` UTF-16 units even after trimming (the schemas count units). */
export function longerThan(max: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.string({ unit: solidChar, minLength: max + 1, maxLength: max + 40 }) },
    // Huge strings: far past the field's limit but well inside the body limit.
    { weight: 1, arbitrary: fc.integer({ min: 10_000, max: 200_000 }).map((n) => 'x'.repeat(n)) },
  );
}

/** Empty or blank once trimmed, which required text fields refuse. */
const blank = fc.constantFrom('', ' ', '   ', '\t', '\n', '\u00a0', '\u3000', '\ufeff', ' \r\n ');

/** A required or optional text field of at most `max` characters: blank, too long, or not a string. */
export const badText = (max: number) => fc.oneof(blank, longerThan(max), notA('string'));

/** Strings that fail `pattern`: listed near-misses first, then random strings that happen not to match. */
function notMatching(pattern: RegExp, nearMisses: readonly string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...nearMisses) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).filter((s) => !pattern.test(s)) },
    { weight: 1, arbitrary: notA('string') },
  );
}

const HEX32 = '0123456789abcdef0123456789ABCDEF';

export const badState = notMatching(/^[A-Z]{2}$/, ['ca', 'CAL', 'C', '', 'C1', ' CA', 'ÇA', 'C A']);
export const badZip = notMatching(/^\d{5}(-\d{4})?$/, [
  '9410',
  '941050',
  '94105-',
  '94105-12',
  'abcde',
  '٩٤١٠٥',
  '94105\n',
  '94105 1234',
]);
export const badCountry = fc.oneof(fc.constantFrom('us', 'USA', 'CA', '', ' US', 'US '), notA('string'));
export const badEmail = fc.oneof(
  fc.constantFrom(
    'jane',
    'jane@',
    '@acme.example',
    'jane doe@acme.example',
    'a@b@c.example',
    '',
    'jane@acme..example',
    `${'a'.repeat(250)}@acme.example`,
  ),
  notA('string'),
);
export const badPin = notMatching(/^[0-9A-Za-z]{1,15}$/, [
  '',
  '12-34',
  '1234 ',
  '1'.repeat(16),
  '١٢٣٤',
  'ＡＢ',
  '12\n',
]);
export const badDocumentSid = notMatching(/^RD[0-9a-fA-F]{32}$/, [
  'RD',
  `RD${HEX32.slice(1)}`,
  `rd${HEX32}`,
  `RE${HEX32}`,
  `RD${'z'.repeat(32)}`,
  `RD${HEX32}0`,
]);
export const badAccountSid = notMatching(/^AC[0-9a-fA-F]{32}$/, [
  'AC',
  `AC${HEX32.slice(1)}`,
  `AC${HEX32}0`,
  `ac${HEX32}`,
  `AC${'g'.repeat(32)}`,
  `PN${HEX32}`,
  ` AC${HEX32}`,
]);
export const badAuthToken = fc.oneof(
  fc.string({ unit: solidChar, maxLength: 15 }),
  fc.string({ unit: solidChar, minLength: 129, maxLength: 300 }),
  notA('string'),
);
export const badDate = fc.oneof(
  fc.constantFrom(
    '2026-13-01',
    '2026-00-10',
    '2026-12-32',
    '20261215',
    '2026-12-15T00:00:00Z',
    '12/15/2026',
    'tomorrow',
    '',
    ' 2026-12-15',
    '+02026-12-15',
  ),
  notA('string'),
);
export const badEnum = (values: readonly string[]) =>
  fc.oneof(
    fc.string({ maxLength: 30 }).filter((s) => !values.includes(s)),
    fc.constantFrom(
      ...values.flatMap((v) => [v.toLowerCase(), v.toUpperCase(), ` ${v}`, `${v} `]).filter((v) => !values.includes(v)),
    ),
    notA('string'),
  );
export const badTrue = fc.oneof(fc.constantFrom(false, 'true', 1, 'yes'), notA('boolean'));
export const badBase64 = fc.oneof(
  fc.constantFrom(
    '',
    '!!!!',
    'abc def',
    '=abc',
    'ab=c',
    'abc===',
    'YWJj\n',
    'YW-_',
    'data:application/pdf;base64,YWJj',
  ),
  notA('string'),
);

/** Keys a hostile client adds: prototype pollution, the table's own key names, mass assignment, random. */
export function extraKey(known: readonly string[]): fc.Arbitrary<string> {
  return fc
    .oneof(
      fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        'toString',
        'hasOwnProperty',
        'valueOf',
        '__defineGetter__',
        'PK',
        'SK',
        'accountId',
        'status',
        'version',
        'taskToken',
        'isAdmin',
      ),
      fc.string({ maxLength: 12 }),
    )
    .filter((key) => !known.includes(key));
}

const pollutingValue = fc.oneof(
  smallJson,
  fc.constant({ polluted: 'yes', isAdmin: true }),
  fc.constant({ prototype: { polluted: 'yes' } }),
);

// ---------------------------------------------------------------------------------------------------------------
// The routes' bodies.

/** Schema-style description of one field: where it is and what breaks it. */
interface FieldRule {
  readonly path: readonly PathPart[];
  readonly rule: string;
  readonly required: boolean;
  readonly bad: fc.Arbitrary<unknown>;
}

/** An object of the body that refuses unknown keys, with the keys it knows. */
interface StrictObject {
  readonly path: readonly PathPart[];
  readonly keys: readonly string[];
}

function violationsOf(
  rules: readonly FieldRule[],
  objects: readonly StrictObject[],
  semantic: readonly fc.Arbitrary<Violation>[] = [],
): fc.Arbitrary<Violation> {
  const fieldViolations = rules.map((rule) => {
    const values = rule.bad.map((value): Violation => ({ path: rule.path, rule: rule.rule, value }));
    const removal: Violation = { path: rule.path, rule: `${rule.rule} (required)`, remove: true };
    // Removing an array element only shortens the array: a required field is an object's key.
    return rule.required && typeof rule.path.at(-1) === 'string'
      ? fc.oneof({ weight: 4, arbitrary: values }, { weight: 1, arbitrary: fc.constant(removal) })
      : values;
  });
  const extraKeys = objects.map((object) =>
    fc
      .tuple(extraKey(object.keys), pollutingValue)
      .map(([key, value]): Violation => ({ path: [...object.path, key], rule: 'unknown key', value })),
  );
  return fc.oneof(
    { weight: 6, arbitrary: fc.oneof(...fieldViolations) },
    { weight: 2, arbitrary: fc.oneof(...extraKeys) },
    ...(semantic.length > 0 ? [{ weight: 3, arbitrary: fc.oneof(...semantic) }] : []),
  );
}

/** A valid base body broken by one to three violations. */
function broken(base: unknown, violation: fc.Arbitrary<Violation>): fc.Arbitrary<FuzzBody> {
  return (
    fc
      .array(violation, { minLength: 1, maxLength: 3 })
      .map((violations) => applyViolations(base, violations))
      // Belt and braces: a body none of whose violations applied would be the valid base, and might be stored.
      .filter((fuzz) => fuzz.violations.length > 0)
  );
}

const address = {
  street: '1 Main St',
  street2: 'Suite 2',
  city: 'San Francisco',
  state: 'CA',
  zip: '94105',
  country: 'US',
};
const CARRIER_KEYS = [
  'name',
  'customerType',
  'customerName',
  'accountNumber',
  'accountTelephoneNumber',
  'pin',
  'authorizedRepresentative',
  'authorizedRepresentativeEmail',
  'address',
  'utilityBillDocumentSid',
  'phoneNumbers',
];
const ADDRESS_KEYS = Object.keys(address);

/** Fresh local numbers (not in any port request) that the simulator finds portable. */
const FRESH_NUMBERS = ['+14155550260', '(415) 555-0261'];
/** Strings no US number parser accepts (the schema lets any string of at most 40 characters through). */
const NOT_US_NUMBERS = ['', 'abc', '123', '+1 (415) 555-01', '+44 20 7946 0958', '0000000000', '+1 000 000 0000'];

/** A losing carrier's fields; `required: false` for corrections, where every field is optional. */
function carrierRules(carrier: readonly PathPart[], required: boolean): FieldRule[] {
  const a = [...carrier, 'address'];
  return [
    { path: [...carrier, 'name'], rule: 'text 1..100', required, bad: badText(100) },
    {
      path: [...carrier, 'customerType'],
      rule: 'Business | Individual',
      required: false,
      bad: badEnum(['Business', 'Individual']),
    },
    { path: [...carrier, 'customerName'], rule: 'text 1..200', required, bad: badText(200) },
    { path: [...carrier, 'accountNumber'], rule: 'text 1..64', required: false, bad: badText(64) },
    { path: [...carrier, 'accountTelephoneNumber'], rule: 'text 1..40', required: false, bad: badText(40) },
    { path: [...carrier, 'pin'], rule: 'PIN', required: false, bad: badPin },
    { path: [...carrier, 'authorizedRepresentative'], rule: 'text 1..200', required, bad: badText(200) },
    { path: [...carrier, 'authorizedRepresentativeEmail'], rule: 'email', required, bad: badEmail },
    { path: a, rule: 'address object', required, bad: notA('object') },
    // Inside an address every field but street2 is required, for orders and corrections alike.
    { path: [...a, 'street'], rule: 'text 1..200', required: true, bad: badText(200) },
    { path: [...a, 'street2'], rule: 'text 1..200', required: false, bad: badText(200) },
    { path: [...a, 'city'], rule: 'text 1..100', required: true, bad: badText(100) },
    { path: [...a, 'state'], rule: 'two-letter state', required: true, bad: badState },
    { path: [...a, 'zip'], rule: 'ZIP', required: true, bad: badZip },
    { path: [...a, 'country'], rule: 'US', required: true, bad: badCountry },
    { path: [...carrier, 'utilityBillDocumentSid'], rule: 'RD sid', required: false, bad: badDocumentSid },
  ];
}

/** POST port-orders: a complete order for the connected account, broken by at least one rule. */
export function portOrderBodies(ctx: FuzzContext): { base: unknown; broken: fc.Arbitrary<FuzzBody> } {
  const carrier = {
    name: 'CallRail',
    customerType: 'Business',
    customerName: 'Acme Plumbing LLC',
    accountNumber: '5551234',
    accountTelephoneNumber: '+14155550100',
    pin: '1234',
    authorizedRepresentative: 'Jane Doe',
    authorizedRepresentativeEmail: 'jane@acme.example',
    address,
    utilityBillDocumentSid: ctx.documentSid,
    phoneNumbers: [FRESH_NUMBERS[0], { phoneNumber: FRESH_NUMBERS[1], pin: '9876' }],
  };
  const base = {
    losingCarriers: [carrier],
    targetPortInDate: isoDate(ctx.today, 30),
    notificationEmails: ['owner@acme.example'],
    attestations: { currentServiceActiveAndPaid: true, keepCurrentServiceUntilComplete: true },
  };
  const c: PathPart[] = ['losingCarriers', 0];
  const numbers: PathPart[] = [...c, 'phoneNumbers'];
  const rules: FieldRule[] = [
    {
      path: ['losingCarriers'],
      rule: '1..50 carriers',
      required: true,
      bad: fc.oneof(fc.constant([]), fc.constant(Array.from({ length: 51 }, () => carrier)), notA('array')),
    },
    { path: c, rule: 'carrier object', required: true, bad: notA('object') },
    ...carrierRules(c, true),
    {
      path: numbers,
      rule: '1..5000 numbers',
      required: true,
      bad: fc.oneof(
        fc.constant([]),
        fc.constant(Array.from({ length: 5001 }, (_, i) => `+1415556${String(i).padStart(4, '0')}`)),
        notA('array'),
      ),
    },
    {
      path: [...numbers, 0],
      rule: 'number entry',
      required: true,
      bad: fc.oneof(
        longerThan(40),
        notA('string').filter((v) => kindOf(v) !== 'object'),
      ),
    },
    {
      path: [...numbers, 1],
      rule: 'number entry object',
      required: true,
      bad: fc.oneof(
        fc.constant({ pin: '9876' }),
        badPin.map((pin) => ({ phoneNumber: FRESH_NUMBERS[1], pin })),
        longerThan(40).map((phoneNumber) => ({ phoneNumber })),
      ),
    },
    { path: [...numbers, 1, 'phoneNumber'], rule: 'number string', required: true, bad: notA('string') },
    { path: ['targetPortInDate'], rule: 'ISO date', required: false, bad: badDate },
    {
      path: ['notificationEmails'],
      rule: '1..10 emails',
      required: true,
      bad: fc.oneof(
        fc.constant([]),
        fc.constant(Array.from({ length: 11 }, (_, i) => `owner${i}@acme.example`)),
        notA('array'),
      ),
    },
    { path: ['notificationEmails', 0], rule: 'email', required: true, bad: badEmail },
    { path: ['attestations'], rule: 'attestations object', required: true, bad: notA('object') },
    { path: ['attestations', 'currentServiceActiveAndPaid'], rule: 'must be true', required: true, bad: badTrue },
    { path: ['attestations', 'keepCurrentServiceUntilComplete'], rule: 'must be true', required: true, bad: badTrue },
  ];
  const objects: StrictObject[] = [
    { path: [], keys: Object.keys(base) },
    { path: c, keys: CARRIER_KEYS },
    { path: [...c, 'address'], keys: ADDRESS_KEYS },
    { path: [...numbers, 1], keys: ['phoneNumber', 'pin'] },
    { path: ['attestations'], keys: Object.keys(base.attestations) },
  ];
  // Valid for the schema, refused by the use case: wrong or repeated numbers, a date too soon, numbers already in
  // an open port request (409), no utility bill for an API port.
  const semantic: fc.Arbitrary<Violation>[] = [
    fc
      .constantFrom(...NOT_US_NUMBERS)
      .map((value): Violation => ({ path: [...numbers, 0], rule: 'a valid US number', value })),
    fc.constant<Violation>({
      path: numbers,
      rule: 'each number once',
      value: ['+14155550262', '(415) 555-0262'],
    }),
    fc.integer({ min: -400, max: 5 }).map(
      (days): Violation => ({
        path: ['targetPortInDate'],
        rule: 'at least 7 days ahead',
        value: isoDate(ctx.today, days),
      }),
    ),
    fc
      .constantFrom(...ctx.claimedNumbers.flatMap((n) => [n, nationalNotation(n)]))
      .map((claimed): Violation => ({ path: numbers, rule: 'not in an open port request', value: [claimed] })),
    fc.constant<Violation>({
      path: [...c, 'utilityBillDocumentSid'],
      rule: 'utility bill for API ports',
      remove: true,
    }),
  ];
  return { base, broken: broken(base, violationsOf(rules, objects, semantic)) };
}

/** POST port-requests/{id}/corrections: every field of a correction, broken (or whole, for the wrong state). */
export function correctionBodies(ctx: FuzzContext): { base: unknown; broken: fc.Arbitrary<FuzzBody> } {
  const base = {
    name: 'CallRail',
    customerName: 'Acme Plumbing LLC',
    pin: '4321',
    authorizedRepresentativeEmail: 'jane@acme.example',
    address,
    utilityBillDocumentSid: ctx.documentSid,
    phoneNumbers: [{ phoneNumber: ctx.claimedNumbers[0] ?? FRESH_NUMBERS[0], pin: '4321' }],
  };
  const rules: FieldRule[] = [
    ...carrierRules([], false),
    {
      path: ['phoneNumbers'],
      rule: '1..1000 number PINs',
      required: false,
      bad: fc.oneof(
        fc.constant([]),
        fc.constant(
          Array.from({ length: 1001 }, (_, i) => ({ phoneNumber: `+1415556${String(i).padStart(4, '0')}`, pin: '1' })),
        ),
        notA('array'),
      ),
    },
    {
      path: ['phoneNumbers', 0],
      rule: 'number and PIN',
      required: true,
      bad: fc.oneof(
        fc.constant({ phoneNumber: '+14155550142' }),
        badPin.map((pin) => ({ phoneNumber: '+14155550142', pin })),
        longerThan(40).map((phoneNumber) => ({ phoneNumber, pin: '1234' })),
        notA('object'),
      ),
    },
  ];
  const objects: StrictObject[] = [
    { path: [], keys: [...CARRIER_KEYS] },
    { path: ['address'], keys: ADDRESS_KEYS },
    { path: ['phoneNumbers', 0], keys: ['phoneNumber', 'pin'] },
  ];
  const semantic = [fc.constant<Violation>({ path: [], rule: 'at least one field', value: {} })];
  return { base, broken: broken(base, violationsOf(rules, objects, semantic)) };
}

/** PUT twilio-connection: malformed credentials, or well-formed ones that Twilio refuses. */
export function twilioConnectionBodies(ctx: FuzzContext): {
  base: unknown;
  broken: fc.Arbitrary<FuzzBody>;
  baseRefusal: readonly Violation[];
} {
  const wrongToken = fc.stringMatching(/^[0-9a-f]{32}$/).filter((t) => !ctx.realAuthTokens.includes(t));
  const base = { accountSid: ctx.knownAccountSids[0], authToken: 'f'.repeat(32) };
  const rules: FieldRule[] = [
    { path: ['accountSid'], rule: 'AC + 32 hex', required: true, bad: badAccountSid },
    { path: ['authToken'], rule: '16..128 characters', required: true, bad: badAuthToken },
  ];
  // A new SID would be accepted by the simulator (and connected): only known SIDs, with tokens Twilio refuses.
  const semantic = [
    fc.tuple(fc.constantFrom(...ctx.knownAccountSids), wrongToken).map(
      ([accountSid, authToken]): Violation => ({
        path: [],
        rule: 'credentials Twilio accepts',
        value: { accountSid, authToken },
      }),
    ),
  ];
  const violation = violationsOf(rules, [{ path: [], keys: ['accountSid', 'authToken'] }], semantic);
  // Even the base carries a wrong token: whatever slips through, Twilio refuses and nothing is connected.
  const refused: Violation = { path: ['authToken'], rule: 'credentials Twilio accepts' };
  return {
    base,
    broken: broken(base, violation).map((fuzz) => ({ ...fuzz, violations: [...fuzz.violations, refused] })),
    baseRefusal: [refused],
  };
}

/** POST documents: a utility bill with a bad name, type or content. */
export function documentBodies(): { base: unknown; broken: fc.Arbitrary<FuzzBody> } {
  const base = {
    fileName: 'bill.pdf',
    contentType: 'application/pdf',
    contentBase64: Buffer.from('%PDF-1.4\n% fuzz\n%%EOF\n').toString('base64'),
  };
  const rules: FieldRule[] = [
    { path: ['fileName'], rule: 'text 1..200', required: true, bad: badText(200) },
    {
      path: ['contentType'],
      rule: 'pdf | png | jpeg',
      required: true,
      bad: badEnum(['application/pdf', 'image/png', 'image/jpeg']),
    },
    { path: ['contentBase64'], rule: 'base64', required: true, bad: badBase64 },
  ];
  return { base, broken: broken(base, violationsOf(rules, [{ path: [], keys: Object.keys(base) }])) };
}

/** POST document-uploads: `{ fileName, contentType, sizeBytes }`, a whole number of bytes from 1 to 5,242,880. */
export function documentUploadRequestBodies(): { base: unknown; broken: fc.Arbitrary<FuzzBody> } {
  const base = { fileName: 'scan.pdf', contentType: 'application/pdf', sizeBytes: 4_500_000 };
  const rules: FieldRule[] = [
    { path: ['fileName'], rule: 'text 1..200', required: true, bad: badText(200) },
    {
      path: ['contentType'],
      rule: 'pdf | png | jpeg',
      required: true,
      bad: badEnum(['application/pdf', 'image/png', 'image/jpeg']),
    },
    {
      path: ['sizeBytes'],
      rule: 'whole number 1..5242880',
      required: true,
      bad: fc.oneof(
        fc.constantFrom(0, -1, 5_242_881, 6 * 1024 * 1024, 1.5, 5_242_879.9, Number.MAX_SAFE_INTEGER, -0.5),
        fc.integer({ min: 5_242_881 }),
        fc.integer({ max: 0 }),
        fc.constantFrom('1024', '5MB', '1e3'),
        notA('number'),
      ),
    },
  ];
  return { base, broken: broken(base, violationsOf(rules, [{ path: [], keys: Object.keys(base) }])) };
}

/** POST portability-checks and POST imports: `{ phoneNumbers }`, 1 to 1,000 strings of at most 40 characters. */
export function numberListBodies(options: { semantic: boolean }): { base: unknown; broken: fc.Arbitrary<FuzzBody> } {
  const base = { phoneNumbers: [...FRESH_NUMBERS] };
  const rules: FieldRule[] = [
    {
      path: ['phoneNumbers'],
      rule: '1..1000 numbers',
      required: true,
      bad: fc.oneof(
        fc.constant([]),
        fc.constant(Array.from({ length: 1001 }, (_, i) => `+1415556${String(i).padStart(4, '0')}`)),
        notA('array'),
      ),
    },
    {
      path: ['phoneNumbers', 0],
      rule: 'string of at most 40',
      required: true,
      bad: fc.oneof(longerThan(40), notA('string')),
    },
  ];
  // imports refuses wrong and repeated numbers as a whole (portability-checks answers them one by one instead).
  const semantic = options.semantic
    ? [
        fc
          .constantFrom(...NOT_US_NUMBERS)
          .map((value): Violation => ({ path: ['phoneNumbers', 0], rule: 'a valid US number', value })),
        fc.constant<Violation>({
          path: ['phoneNumbers'],
          rule: 'each number once',
          value: ['+14155550262', '415.555.0262'],
        }),
      ]
    : [];
  return { base, broken: broken(base, violationsOf(rules, [{ path: [], keys: ['phoneNumbers'] }], semantic)) };
}

/** Phone-number-like strings, valid or not, for portability checks (read only: a 200 is fine there). */
export const phoneLike: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('', '+1', '1', '+1 ', '1-', '+', '+44'),
      fc.constantFrom('415', '917', '800', '888', '212', '000', '555', '999'),
      fc.integer({ min: 0, max: 9_999_999 }),
      fc.constantFrom('', '-', ' ', '.', ')'),
    )
    .map(([prefix, area, line, sep]) => {
      const digits = String(line).padStart(7, '0');
      return `${prefix}${area}${sep}${digits.slice(0, 3)}${sep}${digits.slice(3)}`;
    }),
  fc.string({ maxLength: 40 }),
  fc.stringMatching(/^\+?[0-9 ().-]{0,40}$/).filter((s) => s.length <= 40),
);

// ---------------------------------------------------------------------------------------------------------------
// Raw bodies: not built from the schemas at all.

/** A body as bytes on the wire, with how it was made (for the counterexample). */
export interface RawBody {
  readonly kind: string;
  /** undefined: no body at all. */
  readonly payload: string | Uint8Array | undefined;
}

const deepNesting = fc
  .tuple(fc.integer({ min: 50, max: 200_000 }), fc.constantFrom('array', 'object', 'unbalanced', 'in-field'))
  .map(([depth, shape]): RawBody => {
    const payload =
      shape === 'array'
        ? `${'['.repeat(depth)}${']'.repeat(depth)}`
        : shape === 'object'
          ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
          : shape === 'unbalanced'
            ? '['.repeat(depth)
            : `{"phoneNumbers":${'['.repeat(depth)}"+14155550100"${']'.repeat(depth)}}`;
    return { kind: `deep ${shape} ${depth}`, payload };
  });

const oddJson = fc.constantFrom(
  '',
  ' ',
  'null',
  'true',
  '0',
  '-0',
  '1e309',
  '""',
  '[]',
  '{}',
  'NaN',
  'Infinity',
  'undefined',
  "{'a':1}",
  '{a:1}',
  '{"a":1,}',
  '/* comment */ {}',
  '{"a":1}{"b":2}',
  '\ufeff{}',
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"phoneNumbers":["+14155550100"],"__proto__":{"polluted":"yes"}}',
  '{"__proto__":[],"phoneNumbers":["+14155550100"]}',
  '{"phoneNumbers":{"length":1,"0":"+14155550100"}}',
  '{"phoneNumbers":["+14155550100"],"phoneNumbers":null}',
  `{"a":"${'\\ud800'.repeat(10)}"}`,
  '"\\u0000"',
  '1'.repeat(400),
);

/** Random JSON, random text, random bytes, deep nesting and JSON oddities: never a valid body of any route. */
export function rawBodies(validJson: string): fc.Arbitrary<RawBody> {
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.jsonValue({ maxDepth: 5 }).map((v): RawBody => ({ kind: 'json', payload: JSON.stringify(v) })),
    },
    {
      weight: 2,
      arbitrary: fc
        .anything({
          maxDepth: 4,
          withBoxedValues: true,
          withNullPrototype: true,
          withSparseArray: true,
          withDate: true,
        })
        .map((v): RawBody => ({ kind: 'anything', payload: JSON.stringify(v) })),
    },
    {
      weight: 2,
      arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s): RawBody => ({ kind: 'text', payload: s })),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b): RawBody => ({ kind: 'bytes', payload: b })) },
    { weight: 1, arbitrary: deepNesting },
    { weight: 2, arbitrary: oddJson.map((s): RawBody => ({ kind: 'odd json', payload: s })) },
    {
      // A valid body cut short: the most common real-world malformed JSON.
      weight: 1,
      arbitrary: fc
        .integer({ min: 0, max: Math.max(0, validJson.length - 1) })
        .map((n): RawBody => ({ kind: `truncated at ${n}`, payload: validJson.slice(0, n) })),
    },
  );
}

/** How a structured body goes on the wire: all but the BOM are the same JSON. */
export const serializations = fc.constantFrom('plain', 'pretty', 'spaced', 'bom');
export function serialize(body: unknown, how: string): string {
  const json = JSON.stringify(body) ?? '';
  if (how === 'pretty') return JSON.stringify(body, null, 2) ?? '';
  if (how === 'spaced') return `\n\t ${json} \r\n`;
  if (how === 'bom') return `\ufeff${json}`;
  return json;
}

// ---------------------------------------------------------------------------------------------------------------
// Headers.

/** UTF-8 bytes written as a latin1 string: what Node sends on the wire for a non-ASCII header value. */
export const utf8OnTheWire = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

const printableAscii = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
const unicodeHeaderText = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
  // Node refuses control characters in header values, and trims spaces at the ends: leave both out.
  .map((s) => utf8OnTheWire([...s].filter((ch) => (ch.codePointAt(0) ?? 0) > 0x20 && ch !== '\u007f').join('')))
  .filter((s) => s.length > 0);

/** An Idempotency-Key header as sent; `valid` says whether the API must accept it (1 to 128 characters). */
export interface IdempotencyKey {
  readonly value: string | undefined;
  readonly valid: boolean;
}

export function idempotencyKeys(usedKey: string): fc.Arbitrary<IdempotencyKey> {
  const classify = (value: string | undefined): IdempotencyKey => ({
    value,
    valid: value !== undefined && value.length >= 1 && value.length <= 128,
  });
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(classify(undefined)) },
    { weight: 1, arbitrary: fc.constant(classify('')) },
    { weight: 4, arbitrary: fc.string({ unit: printableAscii, minLength: 1, maxLength: 128 }).map(classify) },
    { weight: 1, arbitrary: fc.string({ unit: printableAscii, minLength: 129, maxLength: 2000 }).map(classify) },
    { weight: 2, arbitrary: unicodeHeaderText.map(classify) },
    // The key of the real order, with another body: 409 at worst, never a second order.
    { weight: 1, arbitrary: fc.constant(classify(usedKey)) },
  );
}

/** Content types: `json` ones make the API read the body; every other one must be a 415. */
export interface ContentType {
  readonly value: string | undefined;
  readonly json: boolean;
}

export const contentTypes: fc.Arbitrary<ContentType> = fc.oneof(
  fc
    .constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'application/json; charset=iso-8859-1',
      'application/json ; charset=utf-16',
      'application/json; foo=bar',
      'Application/JSON',
      'APPLICATION/JSON; CHARSET=UTF-8',
    )
    .map((value): ContentType => ({ value, json: true })),
  fc
    .constantFrom(
      'text/plain',
      'text/plain; charset=utf-8',
      'text/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=----fuzz',
      'multipart/mixed',
      'application/xml',
      'application/octet-stream',
      'application/problem+json',
      'application/vnd.api+json',
      'application/merge-patch+json',
      'application/jsonl',
      'application/json-seq',
      'application/json5',
      'application/jsonx',
      'application/javascript',
      '*/*',
      'json',
      'application',
      'application/',
      ';charset=utf-8',
      'garbage',
      'image/png',
      'application/pdf',
    )
    .map((value): ContentType => ({ value, json: false })),
  fc
    .tuple(fc.stringMatching(/^[a-z]{1,12}$/), fc.stringMatching(/^[a-z0-9.+-]{1,20}$/))
    .filter(([type, subtype]) => `${type}/${subtype}` !== 'application/json')
    .map(([type, subtype]): ContentType => ({ value: `${type}/${subtype}`, json: false })),
  fc.constant<ContentType>({ value: undefined, json: false }),
);

/** How the Content-Type header's name is spelled: HTTP says any case is the same header. */
export const contentTypeNames = fc.constantFrom('content-type', 'Content-Type', 'CONTENT-TYPE', 'cOnTeNt-TyPe');

/** Header names the fuzz must not send: they frame the request or carry the signature. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'authorization',
  'content-type',
  'idempotency-key',
]);

const headerName = fc
  .oneof(
    fc.constantFrom(
      'constructor',
      '__proto__',
      'toString',
      'valueOf',
      'hasOwnProperty',
      'isPrototypeOf',
      'propertyIsEnumerable',
      'toLocaleString',
      '__defineGetter__',
      'prototype',
      'Constructor',
      'TOSTRING',
      'x-forwarded-for',
      'x-forwarded-proto',
      'x-forwarded-port',
      'x-amzn-trace-id',
      'user-agent',
      'accept',
      'accept-encoding',
      'content-encoding',
      'origin',
      'cookie',
      'x-http-method-override',
      'x-twilio-signature',
    ),
    fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$/),
  )
  .filter((name) => !RESERVED_HEADERS.has(name.toLowerCase()) && !name.toLowerCase().startsWith('x-amz-'));

/** Header values as Node sends them: visible latin1 with inner spaces, UTF-8 bytes, empty, or long. */
const headerValue = fc.oneof(
  fc.string({ unit: printableAscii, maxLength: 80 }),
  fc.stringMatching(/^[!-~]([ -~]{0,60}[!-~])?$/),
  unicodeHeaderText,
  fc.integer({ min: 1000, max: 4000 }).map((n) => 'v'.repeat(n)),
);

/** Extra headers, unique by name in any case (duplicates would change what the signature covers). */
export const extraHeaders: fc.Arbitrary<ReadonlyArray<readonly [string, string]>> = fc.uniqueArray(
  fc.tuple(headerName, headerValue),
  { maxLength: 6, selector: ([name]) => name.toLowerCase() },
);

// ---------------------------------------------------------------------------------------------------------------
// Paths.

/** Account ids that break `[A-Za-z0-9_-]{1,64}`, as they appear in a raw path (percent-encoded or not). */
export const badAccountIds: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'a'.repeat(65),
    '.',
    '..',
    '%2E%2E',
    'a.b',
    'a%20b',
    'a%2Fb',
    '%00',
    'acct%0A',
    '%C3%A9t%C3%A9',
    'été',
    '%',
    '%zz',
    '%E0%A4%A',
    'ACCOUNT%23x',
    'a+b',
    '~x',
    '*',
    '{accountId}',
    '%7BaccountId%7D',
  ),
  fc.stringMatching(/^[A-Za-z0-9_-]{65,300}$/),
  fc.stringMatching(/^[!-~]{1,30}$/).filter((s) => !/^[A-Za-z0-9_-]{1,64}$/.test(s) && !/[/?#%]/.test(s)),
);

/** Resource ids beyond `[A-Za-z0-9_-]{1,80}`, or well-formed ones that name nothing. */
export const oddIds: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'pr_00000000000000000000000000',
    'ord_00000000000000000000000000',
    'KW00000000000000000000000000000000',
    'null',
    'undefined',
    '__proto__',
    'constructor',
    'toString',
    '..',
    '%2E%2E',
    '%2F',
    '{portRequestId}',
    'pr_%00',
    '%F0%9F%98%80',
  ),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,80}$/),
  fc.stringMatching(/^[A-Za-z0-9_-]{81,200}$/),
  fc.integer({ min: 1000, max: 10_000 }).map((n) => 'p'.repeat(n)),
  fc.stringMatching(/^[!-~]{1,20}$/).filter((s) => !/[/?#]/.test(s)),
);

/** Path segments that name nothing the API serves. */
export const randomSegment: fc.Arbitrary<string> = fc.oneof(
  fc.webSegment(),
  fc.constantFrom('', '.', '..', '%2e%2e', '%2F', 'v1', 'accounts', 'admin', '_sim', 'openapi.json', 'ANY', '*'),
  fc.stringMatching(/^[!-~]{1,16}$/).filter((s) => !/[/?#]/.test(s)),
);

/** Cursors for GET port-requests: garbage, too long, or well-formed keys that point elsewhere. */
export function cursors(accountId: string, otherAccountId: string): fc.Arbitrary<string> {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: printableAscii, minLength: 513, maxLength: 700 }),
    fc.base64String({ maxLength: 100 }),
    fc
      .string({ unit: solidChar, maxLength: 60 })
      .map((sk) => encode({ PK: `ACCOUNT#${accountId}`, SK: `PORT_REQUEST#${sk}` })),
    fc.constantFrom(
      encode({ PK: `ACCOUNT#${otherAccountId}`, SK: 'PORT_REQUEST#pr_x' }),
      encode({ PK: `ACCOUNT#${accountId}`, SK: 'TWILIO_CONNECTION' }),
      encode({ PK: `ACCOUNT#${accountId}`, SK: 42 }),
      encode({ PK: `ACCOUNT#${accountId}`, SK: { S: 'PORT_REQUEST#x' } }),
      encode({ PK: `ACCOUNT#${accountId}`, SK: 'PORT_REQUEST#', extra: 'x'.repeat(200) }),
      encode([]),
      encode(null),
      encode('PORT_REQUEST#x'),
      encode({ PK: `ACCOUNT#${accountId}` }),
    ),
  );
}

/** A query string for list routes: known keys with odd values, unknown keys, prototype keys, encodings. */
export function queryStrings(accountId: string, otherAccountId: string): fc.Arbitrary<string> {
  const param = fc.oneof(
    fc.constantFrom('SUBMITTED', 'submitted', 'BOGUS', '', 'COMPLETED,FAILED').map((v) => ['status', v] as const),
    fc
      .constantFrom('0', '101', '-1', 'abc', '1e2', '20.5', ' 5', '', '99999999999999999999')
      .map((v) => ['limit', v] as const),
    cursors(accountId, otherAccountId).map((v) => ['cursor', v] as const),
    fc.tuple(
      fc.oneof(
        fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'x', 'limit[]', 'status[0]'),
        fc.webSegment(),
      ),
      fc.webSegment(),
    ),
  );
  return fc
    .array(param, { maxLength: 4 })
    .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));
}

/** HTTP methods: the ones routes use, others Node parses, and tokens no server knows. */
export const methods: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'PUT') },
  {
    weight: 3,
    arbitrary: fc.constantFrom('DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'PURGE', 'SEARCH'),
  },
  // Node's client upper-cases methods, so a lower-case one would only repeat an upper-case one.
  { weight: 1, arbitrary: fc.constantFrom('FOO', 'G3T', 'BREW') },
);
export const STANDARD_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;

// ---------------------------------------------------------------------------------------------------------------
// Helpers.

/** `YYYY-MM-DD` (UTC) `days` after `from`. */
export function isoDate(from: Date, days: number): string {
  return new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate() + days))
    .toISOString()
    .slice(0, 10);
}

/** `+14155550142` → `(415) 555-0142`: the same number in another notation. */
function nationalNotation(e164: string): string {
  const match = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return match ? `(${match[1]}) ${match[2]}-${match[3]}` : e164;
}

export const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
