import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { metrics } from '../../lambdas/adapters/observability/metrics';
import { identifyPortRequest, observability, stepPortRequestId } from '../../lambdas/adapters/observability/middleware';
import { logger } from '../../lambdas/shared/logger';

const context = (awsRequestId: string) =>
  ({
    functionName: 'SyncPortStatusFunction',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:SyncPortStatusFunction',
    memoryLimitInMB: '256',
    awsRequestId,
    getRemainingTimeInMillis: () => 10000,
  }) as unknown as Context;

/** The JSON lines a call writes to stdout/stderr. */
async function printed(call: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(capture),
    jest.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  try {
    await call().catch(() => undefined);
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return chunks
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('the observability middleware of every handler', () => {
  // A workflow step's event: the state input under `input` (StepEvent).
  type StepInput = { portRequestId?: string; fail?: boolean; count?: boolean };
  const handler = middy(async ({ input }: { input: StepInput }) => {
    logger.info('working');
    if (input.count) metrics.count('PortsSubmitted');
    if (input.fail) throw new Error('boom');
    return { ok: true };
  }).use(observability(stepPortRequestId));
  const step = (input: StepInput, lambdaContext: Parameters<typeof handler>[1]) => handler({ input }, lambdaContext);

  it('puts the port request id of the event on every line, and none on the next invocation without one', async () => {
    const first = await printed(() => step({ portRequestId: 'pr_first' }, context('req-1')));
    expect(first.filter((l) => l.message === 'working')).toEqual([
      expect.objectContaining({ portRequestId: 'pr_first', function_request_id: 'req-1' }),
    ]);
    const second = await printed(() => step({}, context('req-2')));
    const line = second.find((l) => l.message === 'working');
    expect(line).toMatchObject({ function_request_id: 'req-2' });
    expect(line).not.toHaveProperty('portRequestId');
  });

  it('resets the keys after a failed invocation too, and keys appended mid-invocation do not outlive it', async () => {
    await printed(() => step({ portRequestId: 'pr_failing', fail: true }, context('req-3')));
    const webhook = middy(async () => {
      identifyPortRequest('pr_resolved_late');
      logger.info('resolved');
    }).use(observability());
    const resolved = await printed(() => webhook({}, context('req-4')));
    expect(resolved.find((l) => l.message === 'resolved')).toMatchObject({ portRequestId: 'pr_resolved_late' });
    const after = await printed(() => step({}, context('req-5')));
    expect(after.find((l) => l.message === 'working')).not.toHaveProperty('portRequestId');
  });

  it('ignores a port request id that is not an id', async () => {
    const lines = await printed(() => step({ portRequestId: 'x'.repeat(500) }, context('req-6')));
    expect(lines.find((l) => l.message === 'working')).not.toHaveProperty('portRequestId');
  });

  it('flushes the invocation’s metrics as one EMF line, failed or not, and prints nothing when there are none', async () => {
    const ok = await printed(() => step({ count: true }, context('req-7')));
    expect(ok.filter((l) => l._aws)).toEqual([expect.objectContaining({ PortsSubmitted: 1, service: 'port-in' })]);
    const failed = await printed(() => step({ count: true, fail: true }, context('req-8')));
    expect(failed.filter((l) => l._aws)).toEqual([expect.objectContaining({ PortsSubmitted: 1 })]);
    const none = await printed(() => step({}, context('req-9')));
    expect(none.filter((l) => l._aws || /metrics/i.test(String(l.message)))).toEqual([]);
  });
});
