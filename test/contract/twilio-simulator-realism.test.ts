import { randomBytes } from 'node:crypto';
import { createTwilioClient } from '../../lambdas/adapters/twilio/twilio-client';
import { startTwilioSimulator, type TwilioSimulator } from '../../local/twilio-simulator';

/** The simulator's latency and Twilio's per-account concurrency limit (options used by `npm run bench`). */

let simulator: TwilioSimulator;
const LATENCY_MS = 150;

beforeAll(async () => {
  simulator = await startTwilioSimulator({ port: 0, latencyMs: LATENCY_MS, maxConcurrentRequestsPerAccount: 2 });
});
afterAll(() => simulator.close());

function account() {
  const sid = `AC${randomBytes(16).toString('hex')}`;
  return { sid, client: createTwilioClient(sid, randomBytes(16).toString('hex'), { apiBaseUrl: simulator.url }) };
}

const portability = (client: ReturnType<typeof createTwilioClient>, sid: string, n: number) =>
  client.numbers.v1
    .portingPortabilities(`+1415555${String(1000 + n)}`)
    .fetch({ targetAccountSid: sid })
    .then(
      () => 200,
      (error: { status?: number; code?: number; moreInfo?: string }) => error,
    );

test('each Twilio API answer comes after the latency; control routes answer at once', async () => {
  const { sid, client } = account();
  const started = performance.now();
  expect(await portability(client, sid, 1)).toBe(200);
  expect(performance.now() - started).toBeGreaterThanOrEqual(LATENCY_MS - 5);
  const health = performance.now();
  expect((await fetch(`${simulator.url}/_sim/health`)).status).toBe(200);
  expect(performance.now() - health).toBeLessThan(LATENCY_MS);
});

test("a request over the account's concurrency limit is answered 429 with Twilio's error 20429", async () => {
  const { sid, client } = account();
  const other = account();
  const answers = await Promise.all([
    portability(client, sid, 2),
    portability(client, sid, 3),
    portability(client, sid, 4),
    // Another account has its own limit.
    portability(other.client, other.sid, 5),
  ]);
  expect(answers.filter((a) => a === 200)).toHaveLength(3);
  const refused = answers.find((a) => a !== 200) as { status?: number; code?: number; moreInfo?: string };
  expect(refused).toMatchObject({ status: 429, code: 20429, moreInfo: 'https://www.twilio.com/docs/errors/20429' });
  expect(simulator.realism.tooManyRequests).toBe(1);
  // The slots are free again once answered.
  expect(await portability(client, sid, 6)).toBe(200);
});
