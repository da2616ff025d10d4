import '../../local/polyfills';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { validateRequestWithBody } from 'twilio/lib/webhooks/webhooks';
import { portWake } from '../../lambdas/domain/port-request';
import { DEFAULT_PORT_IN_CONFIG } from '../../lib/config';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalStack } from '../../local/stack';
import { runLoadGenerator, scenarioMain } from '../lib/child';
import { BenchAccount, localNumbers } from '../lib/driver';
import { percentile, round, sleep, waitUntil } from '../lib/stats';
import { executionHistory, listExecutions, sfnClient, summarizeHistory } from '../lib/workflow';
import type { LoadConfig, LoadResult } from '../load-generator';

/**
 * Item 2: signed Twilio webhooks into the local stack (API Gateway stand-in → TwilioWebhookFunction: Secrets
 * Manager, the Twilio sid's lookup item, the port request's read and conditional write, SendTaskSuccess) against a floor measured in
 * the same process and run: a bare node:http server that does the one DynamoDB write a webhook needs (a PutItem
 * of the port request item, same size, same dynalite), driven by the same load generator with the same signed
 * requests. The load is spread over `ports` port requests (Twilio sends webhooks for many ports at once), each
 * waiting for Twilio as a port does most of its life; the floor writes to a copy of the item of the port the
 * webhook names. A second service run sends every webhook about one port (diagnostic: version conflicts).
 *
 * A second floor is the least work any correct webhook must do, in a bare node:http server too: check Twilio's
 * signature, one conditional write that records the wake, one SendTaskSuccess with the token it read back. The
 * service runs with the deployment's settle window (`webhookSettleSeconds`), as it deploys. Last, the time from a
 * status change's webhooks to the port request showing the new status (read through the API), for every port at
 * once, past the settle window of the run before: what a customer waits for on a quiet port.
 */

export interface WebhookIngestConfig {
  readonly count: number;
  readonly warmup: number;
  readonly concurrency: number;
  readonly ports: number;
  /** Requests of the one-port diagnostic run (0: skip). */
  readonly onePortCount: number;
}

export interface LoadFigures {
  readonly requests: number;
  readonly ok: number;
  readonly statuses: Record<string, number>;
  readonly seconds: number;
  readonly throughputPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface WebhookIngestResult {
  readonly config: WebhookIngestConfig;
  readonly floor: LoadFigures;
  /** Signature check + 1 conditional write + 1 SendTaskSuccess: the least any correct webhook does. */
  readonly minimalFloor: LoadFigures;
  readonly service: LoadFigures;
  /** The settle window the service ran with (the deployment's default). */
  readonly webhookSettleSeconds: number;
  /** From Twilio sending a status change's webhooks to the API showing the new status, one sample per port. */
  readonly webhookToStatus: { readonly samples: number; readonly p50Ms: number; readonly p99Ms: number };
  readonly onePort?: LoadFigures;
  /** Wakes of the waiting workflows the service run caused (each one a sync with Twilio afterwards). */
  readonly workflowWakes: number;
  readonly portRequestItemBytes: number;
}

function figures(result: LoadResult): LoadFigures {
  return {
    requests: result.sent,
    ok: result.ok,
    statuses: result.statuses,
    seconds: round(result.seconds, 2),
    throughputPerSecond: round(result.ok / result.seconds, 1),
    p50Ms: round(percentile(result.latenciesMs, 50), 2),
    p99Ms: round(percentile(result.latenciesMs, 99), 2),
  };
}

/** The floor: read the body, find the port it names, one PutItem of that port's item copy, answer 200. */
async function startFloor(db: DynamoDBDocumentClient, tableName: string, items: Map<string, Record<string, unknown>>) {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let item: Record<string, unknown> | undefined;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { port_in_request_sid?: string };
        item = items.get(body.port_in_request_sid ?? '');
      } catch {
        item = undefined;
      }
      if (!item) {
        res.writeHead(400).end();
        return;
      }
      db.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...item, wakeRequestedAt: new Date().toISOString() },
          ConditionExpression: 'attribute_exists(PK)',
        }),
      ).then(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}'),
        () => res.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * The second floor: the signature, one conditional write recording the wake (its new image carries the waiting
 * task's token), one SendTaskSuccess. A token already spent is refused by Step Functions; that answer is part of
 * the work, as it is for the service.
 */
async function startMinimalFloor(
  db: DynamoDBDocumentClient,
  sfn: ReturnType<typeof sfnClient>,
  tableName: string,
  items: Map<string, Record<string, unknown>>,
  authToken: string,
) {
  let base = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const signature = req.headers['x-twilio-signature'];
      if (
        typeof signature !== 'string' ||
        !validateRequestWithBody(authToken, signature, `${base}${req.url}`, rawBody)
      ) {
        res.writeHead(403).end();
        return;
      }
      let item: Record<string, unknown> | undefined;
      try {
        item = items.get((JSON.parse(rawBody) as { port_in_request_sid?: string }).port_in_request_sid ?? '');
      } catch {
        item = undefined;
      }
      if (!item) {
        res.writeHead(400).end();
        return;
      }
      const now = new Date();
      db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { PK: item.PK, SK: item.SK },
          UpdateExpression: 'SET #wakeCount = if_not_exists(#wakeCount, :zero) + :one, #wakeRequestedAt = :at',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeNames: { '#wakeCount': 'wakeCount', '#wakeRequestedAt': 'wakeRequestedAt' },
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':at': now.toISOString() },
          ReturnValues: 'ALL_NEW',
        }),
      )
        .then(async ({ Attributes }) => {
          const token = Attributes?.taskToken;
          if (typeof token !== 'string') return;
          // The wake the service sends (a workflow woken here must be able to go on).
          const output = JSON.stringify(portWake({}, 'webhook', now));
          await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output })).catch((error: Error) => {
            // A spent token, as the service's adapter takes it (lambdas/adapters/sfn).
            if (!['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken'].includes(error.name)) throw error;
          });
        })
        .then(
          () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}'),
          () => res.writeHead(500).end(),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url: base };
}

async function main(config: WebhookIngestConfig): Promise<WebhookIngestResult> {
  // A long poll: during the run the workflows move only when a webhook wakes them.
  const webhookSettleSeconds = DEFAULT_PORT_IN_CONFIG.webhookSettleSeconds;
  const stack = await startLocalStack({
    apiPort: 0,
    twilioPort: 0,
    sesPort: 0,
    pollIntervalSeconds: 3600,
    webhookSettleSeconds,
  });
  const sfn = sfnClient(stack);
  const client = new DynamoDBClient({
    endpoint: stack.urls.dynamoDb,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    // As the handlers' clients (lambdas/shared/aws-clients.ts): keep-alive connections, same timeouts.
    requestHandler: new NodeHttpHandler({ connectionTimeout: 3000, requestTimeout: 10000 }),
  });
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  try {
    const account = new BenchAccount(stack);
    await account.connect();
    const numbers = localNumbers(config.ports, 2);
    // One losing carrier per number: one port request (one execution, one Twilio port-in) each.
    const portRequestIds = await account.order(numbers.map((n) => [n]));
    const portIns = await Promise.all(
      portRequestIds.map(async (id, i) => ({
        id,
        sid: await account.submitted(id),
        phoneNumber: numbers[i] as string,
      })),
    );
    // Wait until every workflow waits for a webhook (its task token is stored), as a port does most of its life.
    const executions = await waitUntil(
      async () => {
        const found = (await listExecutions(sfn, stack.stateMachineArn)).filter((e) => portRequestIds.includes(e.name));
        if (found.length < portRequestIds.length) return undefined;
        for (const e of found) {
          if (!(await executionHistory(sfn, e.arn)).some((h) => h.type === 'TaskSubmitted')) return undefined;
        }
        return found;
      },
      'the workflows to wait for a webhook',
      60_000,
    );
    const wakes = async () => {
      let total = 0;
      for (const e of executions) total += summarizeHistory(await executionHistory(sfn, e.arn)).waitWakes;
      return total;
    };

    // The floor writes to copies of the port request items: same size, same table, no race with the service.
    const copies = new Map<string, Record<string, unknown>>();
    let itemBytes = 0;
    for (const portIn of portIns) {
      const key = { PK: `ACCOUNT#${account.accountId}`, SK: `PORT_REQUEST#${portIn.id}` };
      const item = (await db.send(new GetCommand({ TableName: stack.tableName, Key: key, ConsistentRead: true }))).Item;
      if (!item) throw new Error(`port request ${portIn.id} not found`);
      itemBytes = Math.max(itemBytes, Buffer.byteLength(JSON.stringify(item)));
      // Another sort key: the service's queries (PORT_REQUEST#…) never see the copies.
      const copy: Record<string, unknown> = { ...item, SK: `FLOOR#${portIn.id}` };
      await db.send(new PutCommand({ TableName: stack.tableName, Item: copy }));
      copies.set(portIn.sid, copy);
    }
    const floor = await startFloor(db, stack.tableName, copies);

    const load = (url: string, over: typeof portIns, count: number): LoadConfig => ({
      url,
      authToken: account.authToken,
      accountSid: account.accountSid,
      portIns: over.map(({ sid, phoneNumber }) => ({ sid, phoneNumber })),
      count,
      warmup: config.warmup,
      concurrency: config.concurrency,
    });
    const path = new URL(account.webhookUrl).pathname;
    const floorResult = await runLoadGenerator<LoadResult>(load(`${floor.url}${path}`, portIns, config.count), 120_000);
    await new Promise<void>((resolve) => floor.server.close(() => resolve()));
    const minimal = await startMinimalFloor(db, sfn, stack.tableName, copies, account.authToken);
    const minimalResult = await runLoadGenerator<LoadResult>(
      load(`${minimal.url}${path}`, portIns, config.count),
      120_000,
    );
    await new Promise<void>((resolve) => minimal.server.close(() => resolve()));
    const before = await wakes();
    const serviceResult = await runLoadGenerator<LoadResult>(load(account.webhookUrl, portIns, config.count), 240_000);
    const after = await wakes();
    const onePortResult =
      config.onePortCount > 0
        ? await runLoadGenerator<LoadResult>(
            load(account.webhookUrl, portIns.slice(0, 1), config.onePortCount),
            240_000,
          )
        : undefined;

    // A status change on every port at once, on quiet ports: every workflow back to waiting (the runs' last syncs,
    // held to their settle windows, done), then past the settle window of those syncs.
    await waitUntil(
      async () => {
        for (const e of executions) {
          if ((await executionHistory(sfn, e.arn)).at(-1)?.type !== 'TaskSubmitted') return undefined;
        }
        return true;
      },
      'the workflows to wait quietly again',
      120_000,
    );
    await sleep((webhookSettleSeconds + 1) * 1000);
    const latencies = await Promise.all(
      portIns.map(async ({ id, sid }) => {
        const before = (await account.portRequest(id)).status;
        const sent = performance.now();
        await account.setTwilioStatus(sid, { status: 'Waiting for Signature' });
        await account.waitFor(id, (pr) => pr.status !== before, `${id} to leave ${before}`, 120_000);
        return performance.now() - sent;
      }),
    );

    return {
      config,
      floor: figures(floorResult),
      minimalFloor: figures(minimalResult),
      service: figures(serviceResult),
      webhookSettleSeconds,
      webhookToStatus: {
        samples: latencies.length,
        p50Ms: round(percentile(latencies, 50), 0),
        p99Ms: round(percentile(latencies, 99), 0),
      },
      ...(onePortResult ? { onePort: figures(onePortResult) } : {}),
      workflowWakes: after - before,
      portRequestItemBytes: itemBytes,
    };
  } finally {
    sfn.destroy();
    client.destroy();
    await stack.stop();
  }
}

if (require.main === module) scenarioMain(main);
