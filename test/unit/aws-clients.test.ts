import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { awsClientConfig } from '../../lambdas/shared/aws-clients';

let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{"stateMachines":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('awsClientConfig', () => {
  it('gives the SDK handler options: the client builds a NodeHttpHandler with the timeouts that throw', async () => {
    const client = new SFNClient({
      ...awsClientConfig,
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    });
    await client.send(new ListStateMachinesCommand({}));
    const handler = client.config.requestHandler;
    expect(handler).toBeInstanceOf(NodeHttpHandler);
    expect((handler as NodeHttpHandler).httpHandlerConfigs()).toMatchObject({
      connectionTimeout: 3000,
      requestTimeout: 10000,
      throwOnRequestTimeout: true,
    });
    client.destroy();
  });
});
