import './polyfills';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalStack } from './stack';

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return value;
}

/** `npm start`: the whole service on this machine, until Ctrl-C. */
async function main(): Promise<void> {
  const stack = await startLocalStack({
    apiPort: numberFromEnv('PORT', 3000),
    twilioPort: numberFromEnv('SIM_PORT', 4010),
    sesPort: numberFromEnv('SES_PORT', 8005),
    stepFunctionsPort: numberFromEnv('SFN_PORT', 8083),
    dynamoDbPort: numberFromEnv('DYNAMODB_PORT', 8000),
    secretsManagerPort: numberFromEnv('SECRETS_MANAGER_PORT', 8084),
    pollIntervalSeconds: numberFromEnv('POLL_INTERVAL_SECONDS', 30),
    reminderIntervalSeconds: numberFromEnv('REMINDER_INTERVAL_SECONDS', 3 * 24 * 3600),
    simulatorAutoAdvance: process.env.SIM_AUTO_ADVANCE === '1',
    simulatorStepMs: numberFromEnv('SIM_STEP_MS', 1500),
    log: process.env.LOCAL_STACK_QUIET === '1' ? undefined : (line) => console.log(line),
  });
  console.log(`Ring Tonic port-in service, local stack
  API (SigV4, execute-api):  ${stack.urls.api}
      credentials:           ${LOCAL_CREDENTIALS.accessKeyId} / ${LOCAL_CREDENTIALS.secretAccessKey}, region ${LOCAL_REGION}
  Twilio simulator:          ${stack.urls.twilio}
  SES emails (web page):     ${stack.urls.ses}   (JSON: ${stack.urls.ses}/store)
  Step Functions endpoint:   ${stack.urls.stepFunctions}
  DynamoDB (dynalite):       ${stack.urls.dynamoDb}   table ${stack.tableName}
  Secrets Manager stand-in:  ${stack.urls.secretsManager}
Ctrl-C stops everything.`);

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping the local stack…');
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
