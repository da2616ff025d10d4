import http from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { getExpectedBodyHash, getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStack } from '../../local/stack';
import { curlPut } from '../support/document-uploads';
import { attestations, losingCarrier, pdfOfSize } from '../support/fixtures';
import {
  badAccountIds,
  contentTypeNames,
  contentTypes,
  correctionBodies,
  documentBodies,
  documentUploadRequestBodies,
  extraHeaders,
  type FuzzBody,
  type FuzzContext,
  formatPath,
  type IdempotencyKey,
  idempotencyKeys,
  methods,
  numberListBodies,
  oddIds,
  pathsRelated,
  phoneLike,
  portOrderBodies,
  queryStrings,
  type RawBody,
  randomSegment,
  rawBodies,
  STANDARD_METHODS,
  serializations,
  serialize,
  sha256Hex,
  twilioConnectionBodies,
  type Violation,
} from '../support/fuzz-arbitraries';
import { startTestStack, TestAccount } from '../support/harness';

/**
 * Issue 4 item 9: thousands of random and malformed bodies, headers, paths and webhooks against the local stack.
 * Whatever arrives, the API never answers 5xx, refuses with problem+json, and stores nothing: the DynamoDB table,
 * the secrets, the simulator's port-ins, the executions and the emails are the same before and after.
 *
 * FUZZ_SEED=<n> replays a run (the seed is printed); FUZZ_SCALE=<x> multiplies the number of runs.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_409);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

type Answer = {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly text: string;
  readonly json: unknown;
};

/** How a request is authenticated: SigV4 as the main product signs, or one of the ways to get it wrong. */
type Signing =
  | 'sigv4'
  | 'unsigned'
  | 'wrong-secret'
  | 'unknown-key'
  | 'wrong-region'
  | 'wrong-service'
  | 'expired'
  | 'tampered-body'
  | 'tampered-path'
  | 'tampered-query'
  | 'tampered-header'
  | 'garbage'
  | 'presigned-garbage';
const BAD_SIGNINGS: readonly Signing[] = [
  'unsigned',
  'wrong-secret',
  'unknown-key',
  'wrong-region',
  'wrong-service',
  'expired',
  'tampered-body',
  'tampered-path',
  'tampered-query',
  'tampered-header',
  'garbage',
  'presigned-garbage',
];

interface WireRequest {
  readonly method: string;
  /** Raw path as it goes on the wire (percent-encoding, `..` and all: no URL normalization). */
  readonly path: string;
  /** Raw query without `?`. */
  readonly query?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: string | Uint8Array;
  readonly signing: Signing;
}

type RouteName =
  | 'twilio-connection'
  | 'portability-checks'
  | 'documents'
  | 'document-uploads'
  | 'port-orders'
  | 'corrections'
  | 'cancel'
  | 'imports';

/** A route's valid base body, its broken variants, and what the API may name when it refuses the base itself. */
type RouteBodies = {
  readonly base: unknown;
  readonly broken: fc.Arbitrary<FuzzBody>;
  readonly baseRefusal?: readonly Violation[];
};

/** The routes of CONTRACT.md that take a body, relative to /v1/accounts/{accountId}. */
const BODY_ROUTES: Record<RouteName, { method: 'POST' | 'PUT'; suffix: (id: string) => string }> = {
  'twilio-connection': { method: 'PUT', suffix: () => 'twilio-connection' },
  'portability-checks': { method: 'POST', suffix: () => 'portability-checks' },
  documents: { method: 'POST', suffix: () => 'documents' },
  'document-uploads': { method: 'POST', suffix: () => 'document-uploads' },
  'port-orders': { method: 'POST', suffix: () => 'port-orders' },
  corrections: { method: 'POST', suffix: (id) => `port-requests/${id}/corrections` },
  cancel: { method: 'POST', suffix: (id) => `port-requests/${id}/cancel` },
  imports: { method: 'POST', suffix: () => 'imports' },
};

/** Every product route as API Gateway knows it (method, segments after /v1/accounts/{accountId}). */
const ACCOUNT_ROUTES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['PUT', ['twilio-connection']],
  ['POST', ['portability-checks']],
  ['POST', ['documents']],
  ['POST', ['document-uploads']],
  ['POST', ['document-uploads', '{id}', 'complete']],
  ['POST', ['port-orders']],
  ['GET', ['port-orders', '{id}']],
  ['GET', ['port-requests']],
  ['GET', ['port-requests', '{id}']],
  ['GET', ['port-requests', '{id}', 'events']],
  ['POST', ['port-requests', '{id}', 'corrections']],
  ['POST', ['port-requests', '{id}', 'cancel']],
  ['GET', ['importable-numbers']],
  ['POST', ['imports']],
  ['GET', ['inventory']],
];

/** A request body fuzz case: where it goes, what it carries, and which rules it breaks. */
interface BodyCase {
  readonly route: RouteName;
  readonly accountId: string;
  readonly id?: string;
  readonly kind: string;
  readonly payload: string | Uint8Array | undefined;
  /** For structured bodies: the rules broken (empty: a valid body refused for the account's state). */
  readonly violations?: readonly Violation[];
  readonly key?: IdempotencyKey;
  readonly contentType?: readonly [string, string | undefined];
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

type Snapshot = {
  readonly items: readonly string[];
  readonly portIns: string;
  readonly executions: number;
  readonly emails: number;
  readonly secrets: Readonly<Record<string, string>>;
};

const stats = {
  cases: 0,
  fiveXx: 0,
  perProperty: new Map<string, number>(),
  statuses: new Map<number, number>(),
  /** Not failures by the brief, worth reporting: refusals that HTTP or API Gateway would not make. */
  observations: new Map<string, { count: number; example: string }>(),
};

function observe(what: string, example: string): void {
  const seen = stats.observations.get(what);
  if (seen) seen.count += 1;
  else stats.observations.set(what, { count: 1, example });
}

/** JSON with sorted keys, so that two scans of the same data compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
  return JSON.stringify(value) ?? 'undefined';
}

/** Decodes like API Gateway: a segment that is not valid percent-encoding stays as sent. */
function tryDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The query as the gateway parses it, for signing: own keys only, so `__proto__` is a key like any other. */
function queryForSigning(rawQuery: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null);
  for (const pair of rawQuery.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const key = tryDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : tryDecode(pair.slice(eq + 1));
    const existing = query[key];
    query[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
}

const truncate = (text: string, max = 600) =>
  text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;

function describeRequest(request: WireRequest): string {
  const body =
    request.body === undefined
      ? ''
      : ` body=${truncate(typeof request.body === 'string' ? JSON.stringify(request.body) : `bytes:${Buffer.from(request.body).toString('hex')}`, 300)}`;
  const headers = (request.headers ?? []).map(([k, v]) => `${k}: ${truncate(v, 80)}`).join(' | ');
  return `${request.method} ${truncate(request.path, 300)}${request.query ? `?${truncate(request.query, 200)}` : ''} [${request.signing}] ${headers}${body}`;
}

describe('API fuzz: random and malformed requests never get a 5xx and store nothing', () => {
  let stack: LocalStack;
  let own: TestAccount;
  let other: TestAccount;
  let ctx: FuzzContext;
  let ownPr: string;
  let otherPr: string;
  let ownOrder: string;
  let otherOrder: string;
  let ownPortInSid: string;
  let usedKey: string;
  /** An upload of the own account with nothing uploaded, and one of the other account whose file is there. */
  let ownUpload: string;
  let otherUpload: string;
  let initial: Snapshot;
  let dynamo: DynamoDBClient;
  let secrets: SecretsManagerClient;
  let sfn: SFNClient;
  /** Where the product API keeps each account's Twilio token (its TWILIO_SECRET_PREFIX). */
  let secretPrefix: string;
  /** Account ids that got a PUT twilio-connection: none of them may have gained a secret. */
  const connectionAttempts = new Set<string>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

  beforeAll(async () => {
    const started = Date.now();
    // No poll for an hour: the waiting workflows must not write while the fuzz compares snapshots.
    stack = await startTestStack({ pollIntervalSeconds: 3600 });
    const aws = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    dynamo = new DynamoDBClient({ ...aws, endpoint: stack.urls.dynamoDb });
    secrets = new SecretsManagerClient({ ...aws, endpoint: stack.urls.secretsManager });
    sfn = new SFNClient({ ...aws, endpoint: stack.urls.stepFunctions });
    secretPrefix = stack.lambdas.environment('ProductApiFunction').TWILIO_SECRET_PREFIX ?? '';

    own = new TestAccount(stack);
    other = new TestAccount(stack);
    const ownBill = await own.connect();
    const otherBill = await other.connect();
    usedKey = `fuzz-order-${Date.now()}`;
    const placed = await own.api.post<{ orderId: string; portRequests: Array<{ portRequestId: string }> }>(
      `${own.base}/port-orders`,
      {
        losingCarriers: [losingCarrier('CallRail', ownBill, ['(415) 555-0142', '(415) 555-0143'])],
        notificationEmails: [own.owner],
        attestations,
      },
      { 'Idempotency-Key': usedKey },
    );
    expect(placed.status).toBe(202);
    ownOrder = placed.body.orderId;
    ownPr = placed.body.portRequests[0]?.portRequestId as string;
    [otherPr] = (await other.order(otherBill, ['(415) 555-0144'])) as [string];
    ownPortInSid = await own.submitted(ownPr);
    await other.submitted(otherPr);
    const otherList = await other.api.get<{ items: Array<{ orderId: string }> }>(`${other.base}/port-requests`);
    otherOrder = otherList.body.items[0]?.orderId as string;

    const pending = await own.createUpload({ fileName: 'bill.pdf', contentType: 'application/pdf', sizeBytes: 1000 });
    ownUpload = pending.body.uploadId;
    const uploaded = await other.createUpload({
      fileName: 'bill.pdf',
      contentType: 'application/pdf',
      sizeBytes: 1000,
    });
    otherUpload = uploaded.body.uploadId;
    expect((await curlPut(uploaded.body, pdfOfSize(1000))).status).toBe(200);

    ctx = {
      documentSid: ownBill,
      claimedNumbers: ['+14155550142', '+14155550143'],
      knownAccountSids: [own.accountSid, other.accountSid],
      realAuthTokens: [own.authToken, other.authToken],
      today: new Date(),
    };
    initial = await quiescentSnapshot();
    console.log(`fuzz: seed ${SEED} (FUZZ_SEED=${SEED} replays it), stack ready in ${Date.now() - started} ms`);
  }, 90_000);

  afterAll(async () => {
    const lines = [...stats.perProperty].map(([name, n]) => `  ${name}: ${n}`);
    const statuses = [...stats.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
    const observations = [...stats.observations].map(
      ([what, { count, example }]) => `  ${what}: ${count} (e.g. ${truncate(example, 300)})`,
    );
    console.log(
      [
        `fuzz: ${stats.cases} cases, ${stats.fiveXx} 5xx`,
        ...lines,
        `  statuses: ${statuses.join(' ')}`,
        ...(observations.length > 0 ? ['  observations:', ...observations] : []),
      ].join('\n'),
    );
    agent.destroy();
    dynamo?.destroy();
    secrets?.destroy();
    sfn?.destroy();
    await stack?.stop();
  });

  // -------------------------------------------------------------------------------------------------------------
  // Stores.

  async function scanTable(): Promise<string[]> {
    const items: string[] = [];
    let ExclusiveStartKey: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
    do {
      const page = await dynamo.send(new ScanCommand({ TableName: stack.tableName, ExclusiveStartKey }));
      for (const item of page.Items ?? []) items.push(canonical(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items.sort();
  }

  async function secretState(accountId: string): Promise<string> {
    try {
      const secret = await secrets.send(new DescribeSecretCommand({ SecretId: `${secretPrefix}${accountId}` }));
      return canonical({ versions: secret.VersionIdsToStages, changed: secret.LastChangedDate?.toISOString() });
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return 'absent';
      throw error;
    }
  }

  async function snapshot(): Promise<Snapshot> {
    const [items, portIns, executions, store] = await Promise.all([
      scanTable(),
      fetch(`${stack.urls.twilio}/_sim/port-ins`).then((r) => r.text()),
      sfn.send(new ListExecutionsCommand({ stateMachineArn: stack.stateMachineArn, maxResults: 1000 })),
      fetch(`${stack.urls.ses}/store`).then((r) => r.json() as Promise<{ emails: unknown[] }>),
    ]);
    const accounts = [own.accountId, other.accountId];
    const states = await Promise.all(accounts.map(secretState));
    return {
      items,
      portIns,
      executions: executions.executions?.length ?? 0,
      emails: store.emails.length,
      secrets: Object.fromEntries(accounts.map((id, i) => [id, states[i] ?? ''])),
    };
  }

  /** Waits until both workflows sit in WaitForPortUpdate (task token stored) and nothing moves any more. */
  async function quiescentSnapshot(): Promise<Snapshot> {
    let previous: Snapshot | undefined;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const current = await snapshot();
      const portRequests = current.items.filter((item) => item.includes('"PORT_REQUEST#'));
      const waiting = portRequests.length === 2 && portRequests.every((item) => item.includes('"taskToken"'));
      if (waiting && previous && canonical(previous) === canonical(current)) return current;
      previous = current;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    throw new Error('The workflows did not settle in WaitForPortUpdate within 20 s');
  }

  /** Runs a property between two snapshots: whatever it sent, nothing may have been stored. */
  async function fuzz<T>(
    name: string,
    index: number,
    arbitrary: fc.Arbitrary<T>,
    numRuns: number,
    check: (value: T) => Promise<void>,
  ): Promise<void> {
    const before = await snapshot();
    stats.perProperty.set(name, 0);
    const seed = SEED + index;
    await fc.assert(
      fc.asyncProperty(arbitrary, async (value) => {
        stats.cases += 1;
        stats.perProperty.set(name, (stats.perProperty.get(name) ?? 0) + 1);
        await check(value);
      }),
      {
        numRuns,
        seed,
        endOnFailure: true,
        // Counterexamples may carry 200,000-character strings: keep the report readable.
        reporter: (details) => {
          if (details.failed) {
            const cause = details.errorInstance instanceof Error ? details.errorInstance.message : '';
            throw new Error(
              `${name} (seed ${seed}): ${truncate(cause, 3000)}\n${truncate(fc.defaultReportMessage(details) ?? '', 3000)}`,
            );
          }
        },
      },
    );
    const after = await snapshot();
    expect(after).toEqual(before);
    // Handlers run in this process: a `__proto__` that got merged somewhere would show here.
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.prototype).not.toHaveProperty('isAdmin');
  }

  // -------------------------------------------------------------------------------------------------------------
  // HTTP on the wire (node:http, so paths and headers go out exactly as generated).

  async function authenticate(
    request: WireRequest,
    host: string,
    body: Buffer | undefined,
  ): Promise<Array<[string, string]>> {
    const base: Array<[string, string]> = [
      ['host', host],
      ...(request.headers ?? []).map(([k, v]): [string, string] => [k, v]),
    ];
    const mode = request.signing;
    // A presigned query (added by exchange) with no Authorization header: the gateway must check the query.
    if (mode === 'unsigned' || mode === 'presigned-garbage') return base;
    if (mode === 'garbage') {
      return [
        ...base,
        ['authorization', 'AWS4-HMAC-SHA256 Credential=garbage, SignedHeaders=host, Signature=00'],
        ['x-amz-date', 'yesterday'],
      ];
    }
    // Null prototype: a header named `__proto__` or `constructor` is a header like any other.
    const headers: Record<string, string> = Object.create(null);
    for (const [k, v] of base) headers[k] = v;
    if (mode === 'tampered-header') headers['x-fuzz'] = 'signed';
    const signedBody = mode === 'tampered-body' ? Buffer.concat([body ?? Buffer.alloc(0), Buffer.from('x')]) : body;
    // The payload hash as a header spares the pure-JS SHA-256 on bodies of several megabytes (API Gateway allows it).
    headers['x-amz-content-sha256'] = sha256Hex(signedBody ?? '');
    const wrong = {
      credentials:
        mode === 'wrong-secret'
          ? { ...LOCAL_CREDENTIALS, secretAccessKey: 'not-the-secret' }
          : mode === 'unknown-key'
            ? { ...LOCAL_CREDENTIALS, accessKeyId: 'AKIAFUZZFUZZFUZZ' }
            : LOCAL_CREDENTIALS,
      region: mode === 'wrong-region' ? 'eu-west-1' : LOCAL_REGION,
      service: mode === 'wrong-service' ? 'lambda' : 'execute-api',
    };
    const signer = new SignatureV4({ ...wrong, sha256: Sha256 });
    const [hostname, port] = host.split(':');
    const signed = await signer.sign(
      new HttpRequest({
        method: request.method,
        protocol: 'http:',
        hostname: hostname ?? '',
        port: Number(port),
        path: mode === 'tampered-path' ? `${request.path}x` : request.path,
        query: queryForSigning(mode === 'tampered-query' ? `${request.query ?? ''}&signed=1` : (request.query ?? '')),
        headers,
        ...(signedBody !== undefined ? { body: signedBody } : {}),
      }),
      mode === 'expired' ? { signingDate: new Date(Date.now() - 20 * 60_000) } : {},
    );
    const out = Object.entries(signed.headers) as Array<[string, string]>;
    return mode === 'tampered-header' ? out.map(([k, v]): [string, string] => [k, k === 'x-fuzz' ? 'sent' : v]) : out;
  }

  async function exchange(request: WireRequest): Promise<Answer> {
    const api = new URL(stack.urls.api);
    const body =
      request.body === undefined
        ? undefined
        : typeof request.body === 'string'
          ? Buffer.from(request.body, 'utf8')
          : Buffer.from(request.body);
    let query = request.query ?? '';
    if (request.signing === 'presigned-garbage') {
      query = `${query ? `${query}&` : ''}X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=LOCALACCESSKEY%2F20200101%2Fus-east-1%2Fexecute-api%2Faws4_request&X-Amz-Date=20200101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00`;
    }
    const headers = await authenticate({ ...request, query }, api.host, body);
    return new Promise<Answer>((resolve, reject) => {
      let answered = false;
      const req = http.request(
        {
          agent,
          host: api.hostname,
          port: api.port,
          method: request.method,
          path: query ? `${request.path}?${query}` : request.path,
          setHost: false,
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], text, json });
          });
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
      // The gateway may answer 413 before it has read a large body: the answer counts, not the broken pipe.
      req.on('error', (error) => {
        if (!answered) reject(new Error(`${error.message}: ${describeRequest(request)}`));
      });
      for (const [name, value] of headers) req.setHeader(name, value);
      if (body !== undefined) req.setHeader('content-length', body.length);
      req.end(body);
    });
  }

  /** Sends one fuzz case and checks what every answer must satisfy; answers the answer for case-specific checks. */
  async function send(request: WireRequest): Promise<Answer> {
    const answer = await exchange(request);
    stats.statuses.set(answer.status, (stats.statuses.get(answer.status) ?? 0) + 1);
    const where = () => `${describeRequest(request)}\n→ ${answer.status} ${truncate(answer.text, 400)}`;
    if (answer.status >= 500 && answer.status !== 501) {
      stats.fiveXx += 1;
      throw new Error(`5xx: ${where()}`);
    }
    // Node's HTTP parser answers an unknown method with a bare 400 before any handler (API Gateway's edge would too).
    const bareParserAnswer = answer.status === 400 && answer.contentType === undefined && answer.text === '';
    if (answer.status >= 400 && request.method !== 'HEAD' && !bareParserAnswer) {
      const problem = answer.json as Record<string, unknown> | undefined;
      const ok =
        (answer.contentType ?? '').startsWith('application/problem+json') &&
        typeof problem === 'object' &&
        problem !== null &&
        typeof problem.type === 'string' &&
        typeof problem.title === 'string' &&
        typeof problem.detail === 'string' &&
        problem.status === answer.status;
      if (!ok) throw new Error(`not a problem+json answer: ${where()}`);
      if (answer.status === 400 && String(problem.type).startsWith('https://ringtonic.example/')) {
        const errors = problem.errors;
        const named =
          Array.isArray(errors) &&
          errors.length > 0 &&
          errors.every(
            (e) => typeof e === 'object' && e && typeof e.path === 'string' && typeof e.message === 'string',
          );
        if (!named) throw new Error(`a 400 that names no field in errors: ${where()}`);
      }
    }
    return answer;
  }

  const fail = (message: string, request: WireRequest, answer: Answer): never => {
    throw new Error(`${message}: ${describeRequest(request)}\n→ ${answer.status} ${truncate(answer.text, 400)}`);
  };

  /** A 400 for a structured body must name a field the case broke (or a parent or child of it). */
  function expectNamedViolation(request: WireRequest, answer: Answer, violations: readonly Violation[]): void {
    const errors = ((answer.json as { errors?: Array<{ path: string }> }).errors ?? []).map((e) => e.path);
    const paths = violations.map((v) => formatPath(v.path));
    if (!errors.some((e) => paths.some((p) => pathsRelated(e, p)))) {
      fail(
        `the 400 names ${JSON.stringify(errors)}, none of the broken fields ${JSON.stringify(paths)}`,
        request,
        answer,
      );
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Case builders.

  const ghostAccount = () =>
    fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/).filter((id) => id !== own.accountId && id !== other.accountId);

  /** A structured body for the own account or a ghost; ghosts may also get the valid base (refused: no Twilio). */
  function structuredCases(bodies: RouteBodies, accounts: fc.Arbitrary<string>): fc.Arbitrary<Omit<BodyCase, 'route'>> {
    return fc.tuple(accounts, bodies.broken, fc.boolean(), serializations).map(([accountId, broken, useBase, how]) => {
      const ghost = accountId !== own.accountId && accountId !== other.accountId;
      const fuzz = ghost && useBase ? { body: bodies.base, violations: bodies.baseRefusal ?? [] } : broken;
      // RFC 8259 lets a parser refuse a byte order mark: then the whole body is what is wrong.
      const bom: Violation[] = how === 'bom' ? [{ path: [], rule: 'JSON without a byte order mark' }] : [];
      return {
        accountId,
        kind: `structured ${how}`,
        payload: serialize(fuzz.body, how),
        violations: [...fuzz.violations, ...bom],
      };
    });
  }

  function rawCases(bodies: { base: unknown }, accounts: fc.Arbitrary<string>): fc.Arbitrary<Omit<BodyCase, 'route'>> {
    return fc
      .tuple(accounts, rawBodies(JSON.stringify(bodies.base)))
      .map(([accountId, raw]: [string, RawBody]) => ({ accountId, kind: `raw ${raw.kind}`, payload: raw.payload }));
  }

  /** Property 1's cases: every POST/PUT route of CONTRACT.md, with structured and raw bodies. */
  function bodyCases(): fc.Arbitrary<BodyCase> {
    const ownOrGhost = fc.oneof(
      { weight: 3, arbitrary: fc.constant(own.accountId) },
      { weight: 1, arbitrary: ghostAccount() },
    );
    const anyAccount = fc.oneof(fc.constant(own.accountId), fc.constant(other.accountId), ghostAccount());
    const routeCases = (route: RouteName, bodies: RouteBodies): fc.Arbitrary<BodyCase> =>
      fc
        .oneof(
          { weight: 3, arbitrary: structuredCases(bodies, ownOrGhost) },
          // Other accounts get raw bodies only: a structured body is complete for the own account's state only.
          { weight: 2, arbitrary: rawCases(bodies, anyAccount) },
        )
        .map((c) => ({ ...c, route }));

    const orders = portOrderBodies(ctx);
    const portOrders = fc
      .tuple(routeCases('port-orders', orders), idempotencyKeys(usedKey))
      .map(([c, key]): BodyCase => ({ ...c, key }));

    // Corrections: the own port request (not ACTION_REQUIRED: even a valid correction is a 409), another
    // account's, or ids that name nothing.
    const corrections = correctionBodies(ctx);
    const correctionTargets = fc.oneof(
      fc.constant([own.accountId, ownPr] as const),
      fc.constant([own.accountId, otherPr] as const),
      fc.constant([other.accountId, ownPr] as const),
      fc.tuple(ghostAccount(), fc.constant(ownPr)),
      fc.tuple(fc.constant(own.accountId), oddIds),
    );
    const correctionCases = fc
      .tuple(
        correctionTargets,
        fc.oneof(
          { weight: 3, arbitrary: corrections.broken.map((f) => ({ ...f, how: 'plain' })) },
          {
            weight: 1,
            arbitrary: fc.constant({ body: corrections.base, violations: [] as Violation[], how: 'plain' }),
          },
        ),
        fc.option(rawBodies(JSON.stringify(corrections.base)), { freq: 3 }),
      )
      .map(([[accountId, id], fuzz, raw]): BodyCase => {
        const idRule: Violation = { path: ['portRequestId'], rule: 'well-formed id' };
        return raw
          ? { route: 'corrections', accountId, id, kind: `raw ${raw.kind}`, payload: raw.payload }
          : {
              route: 'corrections',
              accountId,
              id,
              kind: fuzz.violations.length > 0 ? 'structured' : 'valid, wrong state or account',
              payload: JSON.stringify(fuzz.body),
              violations: [...fuzz.violations, idRule],
            };
      });

    // Cancel reads no body: only ids it must not act on (never the own port request under the own account).
    const cancelTargets = fc.oneof(
      fc.constant([own.accountId, otherPr] as const),
      fc.constant([own.accountId, ownOrder] as const),
      fc.constant([other.accountId, ownPr] as const),
      fc.tuple(ghostAccount(), fc.constantFrom(ownPr, otherPr)),
      fc.tuple(fc.constant(own.accountId), oddIds),
    );
    const cancelCases = fc.tuple(cancelTargets, rawBodies(JSON.stringify({ reason: 'fuzz' }))).map(
      ([[accountId, id], raw]): BodyCase => ({
        route: 'cancel',
        accountId,
        id,
        kind: `raw ${raw.kind}`,
        payload: raw.payload,
        violations: [{ path: ['portRequestId'], rule: 'well-formed id' }],
      }),
    );

    // Portability checks only read: a valid list of random numbers must answer 200 with one result per input.
    const readOnly = fc.array(phoneLike, { minLength: 1, maxLength: 12 }).map(
      (phoneNumbers): BodyCase => ({
        route: 'portability-checks',
        accountId: own.accountId,
        kind: 'valid, read only',
        payload: JSON.stringify({ phoneNumbers }),
      }),
    );

    return fc.oneof(
      { weight: 2, arbitrary: routeCases('twilio-connection', twilioConnectionBodies(ctx)) },
      { weight: 2, arbitrary: routeCases('portability-checks', numberListBodies({ semantic: false })) },
      { weight: 1, arbitrary: readOnly },
      { weight: 2, arbitrary: routeCases('documents', documentBodies()) },
      { weight: 2, arbitrary: routeCases('document-uploads', documentUploadRequestBodies()) },
      { weight: 5, arbitrary: portOrders },
      { weight: 2, arbitrary: correctionCases },
      { weight: 1, arbitrary: cancelCases },
      { weight: 2, arbitrary: routeCases('imports', numberListBodies({ semantic: true })) },
    );
  }

  function bodyRequest(c: BodyCase): WireRequest {
    const route = BODY_ROUTES[c.route];
    const headers: Array<readonly [string, string]> = [];
    const [ctName, ctValue] = c.contentType ?? ['content-type', 'application/json'];
    if (ctValue !== undefined) headers.push([ctName, ctValue]);
    if (c.key?.value !== undefined) headers.push(['Idempotency-Key', c.key.value]);
    headers.push(...(c.headers ?? []));
    if (c.route === 'twilio-connection') connectionAttempts.add(c.accountId);
    return {
      method: route.method,
      path: `/v1/accounts/${c.accountId}/${route.suffix(c.id ?? '')}`,
      headers,
      ...(c.payload !== undefined ? { body: c.payload } : {}),
      signing: 'sigv4',
    };
  }

  /** The rules a case breaks, with the Idempotency-Key's when it is not 1 to 128 characters. */
  function brokenRules(c: BodyCase): readonly Violation[] | undefined {
    if (!c.violations) return undefined;
    return c.key && !c.key.valid
      ? [...c.violations, { path: ['Idempotency-Key'], rule: '1 to 128 characters' }]
      : c.violations;
  }

  // -------------------------------------------------------------------------------------------------------------
  // 1. Bodies.

  it('answers every random or malformed body with a 4xx problem naming the field, never a 5xx, storing nothing', async () => {
    await fuzz('bodies', 1, bodyCases(), runs(1400), async (c) => {
      const request = bodyRequest(c);
      const answer = await send(request);
      if (answer.status === 403)
        fail('a signed request was refused: the fuzz did not reach the handler', request, answer);
      if (c.kind === 'valid, read only') {
        if (answer.status === 200) {
          const results = (answer.json as { results?: unknown[] }).results;
          const sent = (JSON.parse(c.payload as string) as { phoneNumbers: unknown[] }).phoneNumbers;
          if (results?.length !== sent.length) fail('not one result per number, in order', request, answer);
          return;
        }
      }
      if (answer.status < 400 || answer.status >= 500)
        fail('an invalid body was not refused with a 4xx', request, answer);
      const rules = brokenRules(c);
      if (answer.status === 400 && rules) expectNamedViolation(request, answer, rules);
    });
  }, 120_000);

  // -------------------------------------------------------------------------------------------------------------
  // 2. Content types and headers.

  it('answers 415 to every body that is not application/json and 400 to broken JSON, whatever the headers', async () => {
    const routes: ReadonlyArray<readonly [RouteName, RouteBodies]> = [
      ['twilio-connection', twilioConnectionBodies(ctx)],
      ['portability-checks', numberListBodies({ semantic: false })],
      ['documents', documentBodies()],
      ['document-uploads', documentUploadRequestBodies()],
      ['port-orders', portOrderBodies(ctx)],
      ['corrections', correctionBodies(ctx)],
      ['imports', numberListBodies({ semantic: true })],
    ];
    const cases = fc
      .tuple(
        fc.constantFrom(...routes),
        contentTypes,
        contentTypeNames,
        extraHeaders,
        fc.constantFrom('valid', 'broken', 'form', 'multipart'),
        fc.stringMatching(/^[A-Za-z0-9-]{1,64}$/),
      )
      .chain(([[route, bodies], ct, ctName, headers, shape, key]) =>
        bodies.broken.map((broken): BodyCase => {
          // A valid body goes only with a type the API must refuse: under application/json it would be accepted.
          const how = ct.json && shape === 'valid' ? 'broken' : shape;
          const body = how === 'valid' ? bodies.base : broken.body;
          const payload =
            how === 'form'
              ? new URLSearchParams(
                  Object.entries(typeof body === 'object' && body !== null ? body : {}).map(
                    ([k, v]): [string, string] => [k, JSON.stringify(v) ?? ''],
                  ),
                ).toString()
              : how === 'multipart'
                ? `------fuzz\r\nContent-Disposition: form-data; name="body"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(body)}\r\n------fuzz--\r\n`
                : JSON.stringify(body);
          return {
            route,
            accountId: own.accountId,
            ...(route === 'corrections' ? { id: ownPr } : {}),
            kind: `${how} as ${ct.value ?? '(no content type)'}`,
            payload,
            ...(how === 'broken' ? { violations: broken.violations } : {}),
            ...(route === 'port-orders' ? { key: { value: key, valid: true } } : {}),
            contentType: [ctName, ct.value],
            headers,
          };
        }),
      );
    await fuzz('content types and headers', 2, cases, runs(500), async (c) => {
      const request = bodyRequest(c);
      const answer = await send(request);
      const json = c.contentType?.[1] !== undefined && isJsonType(c.contentType[1]);
      const allowed = json ? [400, 415] : [415];
      if (!allowed.includes(answer.status)) {
        fail(`expected ${allowed.join(' or ')} for ${c.kind}`, request, answer);
      }
      if (json && answer.status === 415) {
        observe(
          `application/json refused with 415 when the header is spelled ${c.contentType?.[0]}`,
          describeRequest(request),
        );
      }
      if (answer.status === 400 && c.violations) expectNamedViolation(request, answer, c.violations);
    });
  }, 120_000);

  /** The contract's JSON media type, with any parameters and in any case. */
  function isJsonType(value: string): boolean {
    return (value.split(';')[0] ?? '').trim().toLowerCase() === 'application/json';
  }

  // -------------------------------------------------------------------------------------------------------------
  // 3. Paths and methods.

  /** A raw path: a real route with odd parts, random segments, or the webhook route; plus a query. */
  function pathCases(): fc.Arbitrary<{ path: string; query: string }> {
    const encodeOne = (id: string) => `%${id.charCodeAt(0).toString(16).toUpperCase()}${id.slice(1)}`;
    const account = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(own.accountId, other.accountId, encodeOne(own.accountId)) },
      { weight: 1, arbitrary: ghostAccount() },
      { weight: 3, arbitrary: badAccountIds },
    );
    const id = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(ownPr, otherPr, ownOrder, otherOrder, encodeOne(ownPr), ownPortInSid) },
      { weight: 3, arbitrary: oddIds },
    );
    const prefix = fc.constantFrom(
      '/v1/accounts/',
      '//v1/accounts/',
      '/v1//accounts/',
      '/V1/accounts/',
      '/v1/Accounts/',
      '/v2/accounts/',
      '/v1/accounts/../accounts/',
      '/v1/./accounts/',
      '/%761/accounts/',
      '/v1/accounts%2F',
    );
    const routePath = fc
      .tuple(
        fc.constantFrom(...ACCOUNT_ROUTES),
        fc.oneof({ weight: 4, arbitrary: fc.constant('/v1/accounts/') }, { weight: 1, arbitrary: prefix }),
        account,
        id,
        fc.oneof(
          { weight: 4, arbitrary: fc.constant<string[]>([]) },
          { weight: 1, arbitrary: fc.array(randomSegment, { maxLength: 3 }) },
        ),
        fc.constantFrom('', '', '', '/'),
      )
      .map(([[, segments], start, acc, rid, extra, trailing]) => {
        const tail = [...segments.map((s) => (s === '{id}' ? rid : s)), ...extra].join('/');
        return `${start}${acc}/${tail}${trailing}`;
      });
    const webhookPath = fc
      .tuple(account, fc.constantFrom('port-in', 'port-in/', 'port-out', ''))
      .map(([acc, last]) => `/v1/webhooks/twilio/${acc}/${last}`);
    const randomPath = fc.oneof(
      fc.array(randomSegment, { maxLength: 8 }).map((segments) => `/${segments.join('/')}`),
      fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
      fc.constantFrom(
        '/',
        '/v1',
        '/v1/',
        '/v1/accounts',
        '/v1/openapi.json',
        '/v1/openapi.json/',
        '/_sim/port-ins',
        '/*',
      ),
    );
    const query = fc.oneof(
      { weight: 3, arbitrary: fc.constant('') },
      { weight: 2, arbitrary: queryStrings(own.accountId, other.accountId) },
    );
    return fc
      .tuple(
        fc.oneof(
          { weight: 6, arbitrary: routePath },
          { weight: 1, arbitrary: webhookPath },
          { weight: 2, arbitrary: randomPath },
        ),
        query,
      )
      .map(([path, q]) => ({ path, query: q }));
  }

  /** Segments as the gateway matches them: split on `/`, empty ones dropped, each percent-decoded. */
  const segmentsOf = (path: string) =>
    path
      .split('/')
      .filter((s) => s.length > 0)
      .map(tryDecode);

  /** The own port request, reached by any spelling of its path, with a method that would change it. */
  function touchesOwnPortRequest(method: string, path: string): boolean {
    const s = segmentsOf(path);
    return (
      method === 'POST' &&
      s.length === 6 &&
      s[0] === 'v1' &&
      s[1] === 'accounts' &&
      s[2] === own.accountId &&
      s[3] === 'port-requests' &&
      s[4] === ownPr &&
      s[5] === 'cancel'
    );
  }

  /** A route API Gateway would find for this method and path. */
  function knownRoute(method: string, path: string): boolean {
    const s = segmentsOf(path);
    if (method === 'GET' && s.length === 2 && s[0] === 'v1' && s[1] === 'openapi.json') return true;
    if (
      method === 'POST' &&
      s.length === 5 &&
      s[0] === 'v1' &&
      s[1] === 'webhooks' &&
      s[2] === 'twilio' &&
      s[4] === 'port-in'
    ) {
      return true;
    }
    if (s[0] !== 'v1' || s[1] !== 'accounts' || s.length < 3) return false;
    const rest = s.slice(3);
    return ACCOUNT_ROUTES.some(
      ([m, segments]) =>
        m === method &&
        segments.length === rest.length &&
        segments.every((seg, i) => seg === '{id}' || seg === rest[i]),
    );
  }

  const isWebhookRoute = (path: string) => {
    const s = segmentsOf(path);
    return s.length === 5 && s[0] === 'v1' && s[1] === 'webhooks' && s[2] === 'twilio' && s[4] === 'port-in';
  };

  it('answers random paths, ids, queries and methods with a 4xx (or 501), never a 5xx, storing nothing', async () => {
    const cases = fc
      .tuple(methods, pathCases(), fc.option(fc.jsonValue({ maxDepth: 2 }), { freq: 2 }))
      .filter(([method, { path }]) => !touchesOwnPortRequest(method, path))
      .map(([method, { path, query }, body]): WireRequest => {
        const withBody = body !== null && method !== 'GET' && method !== 'HEAD';
        return {
          method,
          path,
          query,
          ...(withBody ? { headers: [['content-type', 'application/json']], body: JSON.stringify(body) } : {}),
          signing: 'sigv4',
        };
      });
    await fuzz('paths and methods', 3, cases, runs(700), async (request) => {
      if (segmentsOf(request.path)[3] === 'twilio-connection')
        connectionAttempts.add(segmentsOf(request.path)[2] ?? '');
      const answer = await send(request);
      if (answer.status >= 200 && answer.status < 300 && request.method !== 'GET') {
        fail('a random request was accepted', request, answer);
      }
      if (answer.status === 403 && knownRoute(request.method, request.path) && !isWebhookRoute(request.path)) {
        observe('a correctly signed request to a real route answered 403', describeRequest(request));
      }
    });
  }, 120_000);

  it('answers every completion it cannot carry out with 400, 404 or 409, never a 5xx, storing nothing', async () => {
    // The own account's upload has nothing uploaded (409); the other account's has its file (404 all the same).
    const target = fc.oneof(
      fc.constant([own.accountId, ownUpload, 409] as const),
      fc.constant([own.accountId, otherUpload, 404] as const),
      fc.tuple(ghostAccount(), fc.constantFrom(ownUpload, otherUpload), fc.constant(404)),
      fc.tuple(fc.constant(own.accountId), oddIds, fc.constant(undefined)),
    );
    const cases = fc
      .tuple(target, fc.option(fc.jsonValue({ maxDepth: 2 }), { freq: 2 }), extraHeaders)
      .map(([[accountId, uploadId, expected], body, headers]) => ({
        expected,
        request: {
          method: 'POST',
          path: `/v1/accounts/${accountId}/document-uploads/${encodeURIComponent(uploadId)}/complete`,
          headers: [...headers, ...(body !== null ? [['content-type', 'application/json'] as const] : [])],
          ...(body !== null ? { body: JSON.stringify(body) } : {}),
          signing: 'sigv4',
        } satisfies WireRequest,
      }));
    await fuzz('upload completions', 7, cases, runs(150), async ({ expected, request }) => {
      const answer = await send(request);
      if (answer.status < 400) fail('an upload was completed that must not be', request, answer);
      if (expected !== undefined && answer.status !== expected) fail(`expected ${expected}`, request, answer);
      if (expected === undefined && ![400, 403, 404].includes(answer.status)) {
        fail('an odd upload id answered neither 400 nor 404', request, answer);
      }
    });
  }, 120_000);

  it('answers 403 to every unsigned or wrongly signed request, whatever the path', async () => {
    const cases = fc
      .tuple(
        fc.constantFrom(...STANDARD_METHODS),
        pathCases(),
        fc.constantFrom(...BAD_SIGNINGS),
        fc.option(fc.jsonValue({ maxDepth: 2 }), { freq: 2 }),
      )
      .filter(([method, { path }]) => !isWebhookRoute(path) || method !== 'POST')
      .map(([method, { path, query }, signing, body]): WireRequest => {
        const withBody = body !== null && method !== 'GET' && method !== 'HEAD';
        return {
          method,
          path,
          query,
          ...(withBody ? { headers: [['content-type', 'application/json']], body: JSON.stringify(body) } : {}),
          signing,
        };
      });
    await fuzz('bad signatures', 4, cases, runs(300), async (request) => {
      const answer = await send(request);
      // Raw non-ASCII bytes in the request line never reach the gateway: Node's parser answers a bare 400.
      const refusedByParser =
        answer.status === 400 && answer.text === '' && [...request.path].some((ch) => ch.charCodeAt(0) > 0x7e);
      if (answer.status !== 403 && !refusedByParser) fail('expected 403', request, answer);
    });
  }, 120_000);

  // -------------------------------------------------------------------------------------------------------------
  // 4. The Twilio webhook.

  it('answers 403 to every webhook without a valid Twilio signature, changing nothing', async () => {
    const publicUrl = (accountId: string) => `${stack.urls.api}/v1/webhooks/twilio/${accountId}/port-in`;
    const sidLike = fc.oneof(
      fc.constantFrom(ownPortInSid, `KW${'0'.repeat(32)}`, 'KW', ''),
      fc.stringMatching(/^KW[0-9a-f]{32}$/),
    );
    const params = fc
      .tuple(
        fc.dictionary(
          fc.oneof(fc.constantFrom('Status', 'AccountSid', '__proto__', 'constructor'), fc.webSegment()),
          fc.string({ maxLength: 30 }),
          { maxKeys: 5 },
        ),
        fc.constantFrom('PortInRequestSid', 'port_in_request_sid'),
        sidLike,
      )
      .map(([rest, sidKey, sid]) => ({ ...rest, [sidKey]: sid }));
    const signatureModes = fc.constantFrom(
      'missing',
      'empty',
      'random',
      'wrong token',
      'other account token',
      'wrong url',
      'tampered body',
      'json wrong hash',
      'json unsigned hash',
    );
    const accountIds = fc.oneof(
      { weight: 4, arbitrary: fc.constant(own.accountId) },
      { weight: 1, arbitrary: fc.constant(other.accountId) },
      { weight: 1, arbitrary: ghostAccount() },
      { weight: 1, arbitrary: badAccountIds },
    );
    const cases = fc.record({
      accountId: accountIds,
      params,
      mode: signatureModes,
      form: fc.boolean(),
      contentType: fc.oneof(
        { weight: 4, arbitrary: fc.constant<string | undefined>(undefined) },
        {
          weight: 1,
          arbitrary: fc.constantFrom<string | undefined>('text/plain', 'application/xml', 'multipart/form-data'),
        },
      ),
      randomSignature: fc.base64String({ minLength: 4, maxLength: 40 }),
      wrongToken: fc.stringMatching(/^[0-9a-f]{32}$/),
      wrongPath: fc.constantFrom('/v1/webhooks/twilio/someone-else/port-in', '/v1/webhooks/twilio', '/port-in'),
      sigv4: fc.boolean(),
    });
    await fuzz('twilio webhook', 5, cases, runs(400), async (c) => {
      const url = publicUrl(c.accountId);
      const json = !c.form || c.mode.startsWith('json');
      const formBody = new URLSearchParams(c.params as Record<string, string>).toString();
      const jsonBody = JSON.stringify(c.params);
      let body = json ? jsonBody : formBody;
      let query = '';
      let signature: string | undefined;
      const token = c.wrongToken === own.authToken ? `${c.wrongToken}0` : c.wrongToken;
      switch (c.mode) {
        case 'missing':
          break;
        case 'empty':
          signature = '';
          break;
        case 'random':
          signature = c.randomSignature;
          break;
        case 'wrong token':
          signature = getExpectedTwilioSignature(token, url, json ? {} : c.params);
          break;
        case 'other account token': {
          // A real token, but another account's than the one in the path.
          const foreign = c.accountId === other.accountId ? own.authToken : other.authToken;
          signature = getExpectedTwilioSignature(foreign, url, json ? {} : c.params);
          break;
        }
        case 'wrong url':
          // Never a port-only change: Twilio's validator tries the URL with and without the port.
          signature = getExpectedTwilioSignature(
            own.authToken,
            `${stack.urls.api}${c.wrongPath}`,
            json ? {} : c.params,
          );
          break;
        case 'tampered body':
          // Signed right for one body, sent with another.
          if (json) {
            query = `bodySHA256=${getExpectedBodyHash(jsonBody)}`;
            signature = getExpectedTwilioSignature(own.authToken, `${url}?${query}`, {});
            body = `${jsonBody} `;
          } else {
            signature = getExpectedTwilioSignature(own.authToken, url, c.params);
            body = `${formBody}&Tampered=1`;
          }
          break;
        case 'json wrong hash':
          query = `bodySHA256=${getExpectedBodyHash(`${jsonBody}x`)}`;
          signature = getExpectedTwilioSignature(own.authToken, `${url}?${query}`, {});
          break;
        case 'json unsigned hash':
          // The hash is right but the signature covers the URL without it.
          query = `bodySHA256=${getExpectedBodyHash(jsonBody)}`;
          signature = getExpectedTwilioSignature(own.authToken, url, {});
          break;
      }
      const type = c.contentType ?? (json ? 'application/json' : 'application/x-www-form-urlencoded');
      const request: WireRequest = {
        method: 'POST',
        path: `/v1/webhooks/twilio/${c.accountId}/port-in`,
        query,
        headers: [
          ['content-type', type],
          ...(signature !== undefined ? [['X-Twilio-Signature', signature] as const] : []),
        ],
        body,
        signing: c.sigv4 ? 'sigv4' : 'unsigned',
      };
      const answer = await send(request);
      const validId = /^[A-Za-z0-9_-]{1,64}$/.test(tryDecode(c.accountId));
      const allowed = validId ? [403] : [400, 403];
      if (!allowed.includes(answer.status)) fail(`expected ${allowed.join(' or ')}`, request, answer);
    });
  }, 120_000);

  // -------------------------------------------------------------------------------------------------------------
  // 5. Sizes at the limits.

  it('refuses bodies at and past the size limits with 400 or 413, never a 5xx', async () => {
    const MIB = 1024 * 1024;
    const orderWithName = (bytes: number) => {
      const shell = JSON.stringify({ losingCarriers: [{ name: '' }] });
      return JSON.stringify({ losingCarriers: [{ name: 'x'.repeat(bytes - shell.length) }] });
    };
    const bigDocument = JSON.stringify({
      fileName: 'bill.pdf',
      contentType: 'application/pdf',
      contentBase64: Buffer.alloc(5 * MIB + 3).toString('base64'),
    });
    const manyKeys = JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])));
    const cases: ReadonlyArray<readonly [string, RouteName, string, readonly number[]]> = [
      ['port order of exactly 7 MiB', 'port-orders', orderWithName(7 * MIB), [400]],
      ['port order of 7 MiB + 1 byte', 'port-orders', orderWithName(7 * MIB + 1), [413]],
      ['port order of 10 MiB', 'port-orders', orderWithName(10 * MIB), [413]],
      ['port order of 10 MiB + 1 byte', 'port-orders', orderWithName(10 * MIB + 1), [413]],
      ['document of 5 MiB + 3 bytes', 'documents', bigDocument, [400, 413]],
      ['array nested a million deep', 'portability-checks', `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`, [400]],
      ['object of 100,000 keys', 'imports', manyKeys, [400]],
    ];
    // Seven fixed cases, each sent once: sampling them at random could skip one.
    const before = await snapshot();
    stats.perProperty.set('size limits', 0);
    for (const [what, route, payload, allowed] of cases) {
      stats.cases += 1;
      stats.perProperty.set('size limits', (stats.perProperty.get('size limits') ?? 0) + 1);
      const request = bodyRequest({
        route,
        accountId: own.accountId,
        kind: what,
        payload,
        ...(route === 'port-orders' ? { key: { value: `limit-${what.length}`, valid: true } } : {}),
      });
      const answer = await send(request);
      if (!allowed.includes(answer.status)) fail(`${what}: expected ${allowed.join(' or ')}`, request, answer);
    }
    expect(await snapshot()).toEqual(before);
  }, 120_000);

  // -------------------------------------------------------------------------------------------------------------
  // 6. Nothing stored, over the whole run.

  it('stored nothing: the table, secrets, simulator port-ins, executions and emails are as before the fuzz', async () => {
    expect(await snapshot()).toEqual(initial);
    const ids = [...connectionAttempts].filter((id) => id !== own.accountId && id !== other.accountId);
    const gained = (await Promise.all(ids.map(async (id) => [id, await secretState(id)] as const))).filter(
      ([, state]) => state !== 'absent',
    );
    expect(gained).toEqual([]);
    expect(stats.fiveXx).toBe(0);
  }, 60_000);
});
