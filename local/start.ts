import './polyfills';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalStack } from './stack';

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return value;
}

/**
 * Where the data lives: DATA_DIR, `.local-data/` by default (gitignored), or in memory with DATA_DIR=memory.
 */
function dataDirFromEnv(): string | undefined {
  const raw = process.env.DATA_DIR;
  if (raw === 'memory') return undefined;
  return path.resolve(raw === undefined || raw === '' ? path.join(__dirname, '..', '.local-data') : raw);
}

/** `npm start`: the whole service on this machine, until Ctrl-C. */
async function main(): Promise<void> {
  const dataDir = dataDirFromEnv();
  const stack = await startLocalStack({
    ...(dataDir ? { dataDir } : {}),
    ...(process.env.TWILIO_URL ? { twilioUrl: process.env.TWILIO_URL } : {}),
    ...(process.env.TWILIO_TIMEOUT_MS ? { twilioTimeoutMs: numberFromEnv('TWILIO_TIMEOUT_MS', 10_000) } : {}),
    ...(process.env.RETRY_INTERVAL_SCALE ? { retryIntervalScale: numberFromEnv('RETRY_INTERVAL_SCALE', 1) } : {}),
    ...(process.env.SCHEDULE_INTERVAL_SCALE
      ? { scheduleIntervalScale: numberFromEnv('SCHEDULE_INTERVAL_SCALE', 1) }
      : {}),
    ...(process.env.CALL_ROUTER_URL ? { callRouterUrl: process.env.CALL_ROUTER_URL } : {}),
    // VerifyNumbers' 2-minute answer window and 15-minute re-checks, scaled (0.02: 2 s and 18 s).
    ...(process.env.VERIFICATION_TIME_SCALE
      ? { verificationTimeScale: numberFromEnv('VERIFICATION_TIME_SCALE', 1) }
      : {}),
    apiPort: numberFromEnv('PORT', 3000),
    twilioPort: numberFromEnv('SIM_PORT', 4010),
    sesPort: numberFromEnv('SES_PORT', 8005),
    stepFunctionsPort: numberFromEnv('SFN_PORT', 8083),
    dynamoDbPort: numberFromEnv('DYNAMODB_PORT', 8000),
    secretsManagerPort: numberFromEnv('SECRETS_MANAGER_PORT', 8084),
    s3Port: numberFromEnv('S3_PORT', 4568),
    callRouterPort: numberFromEnv('CALL_ROUTER_PORT', 4020),
    pollIntervalSeconds: numberFromEnv('POLL_INTERVAL_SECONDS', 30),
    reminderIntervalSeconds: numberFromEnv('REMINDER_INTERVAL_SECONDS', 3 * 24 * 3600),
    simulatorAutoAdvance: process.env.SIM_AUTO_ADVANCE === '1',
    simulatorStepMs: numberFromEnv('SIM_STEP_MS', 1500),
    ...(process.env.LAMBDA_CONCURRENCY ? { lambdaConcurrency: numberFromEnv('LAMBDA_CONCURRENCY', 4) } : {}),
    ...(process.env.LAMBDA_WARM_SECONDS ? { lambdaWarmSeconds: numberFromEnv('LAMBDA_WARM_SECONDS', 300) } : {}),
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
  S3 (s3rver, SigV4):        ${stack.urls.s3}   bucket ${stack.uploadsBucketName}
  Call router stand-in:      ${stack.urls.callRouter}   (answers ${stack.urls.callRouterPublic})
  Data:                      ${dataDir ?? 'in memory'}${stack.resumed.length > 0 ? `   (resumed ${stack.resumed.length} open port requests)` : ''}
Ctrl-C stops everything.`);
  if (dataDir) {
    // For tools and tests that start this as a child process.
    writeFileSync(
      path.join(dataDir, 'stack.json'),
      JSON.stringify(
        {
          pid: process.pid,
          urls: stack.urls,
          tableName: stack.tableName,
          uploadsBucketName: stack.uploadsBucketName,
          stateMachineArn: stack.stateMachineArn,
          resumed: stack.resumed,
        },
        null,
        2,
      ),
    );
  }

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
