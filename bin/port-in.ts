#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { PORT_IN_STACK_NAME, PortInStack } from '../lib/port-in-stack';

const app = new App();
new PortInStack(app, PORT_IN_STACK_NAME, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'Ring Tonic port-in service',
});
