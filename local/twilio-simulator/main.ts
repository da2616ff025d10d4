import { startTwilioSimulator } from './server';

/**
 * `tsx local/twilio-simulator/main.ts`: the simulator on its own (SIM_PORT or PORT, SIM_AUTO_ADVANCE=1, SIM_STATE_FILE; SIM_LATENCY_MS,
 * SIM_LATENCY_JITTER_MS and SIM_MAX_CONCURRENT_PER_ACCOUNT for Twilio's latency and concurrency limit).
 */
async function main(): Promise<void> {
  const simulator = await startTwilioSimulator({
    port: Number(process.env.SIM_PORT ?? process.env.PORT ?? 4010),
    host: process.env.SIM_HOST ?? '127.0.0.1',
    autoAdvance: process.env.SIM_AUTO_ADVANCE === '1',
    ...(process.env.SIM_AUTO_ADVANCE_STEP_MS
      ? { autoAdvanceStepMs: Number(process.env.SIM_AUTO_ADVANCE_STEP_MS) }
      : {}),
    latencyMs: Number(process.env.SIM_LATENCY_MS ?? 0),
    latencyJitterMs: Number(process.env.SIM_LATENCY_JITTER_MS ?? 0),
    ...(process.env.SIM_MAX_CONCURRENT_PER_ACCOUNT
      ? { maxConcurrentRequestsPerAccount: Number(process.env.SIM_MAX_CONCURRENT_PER_ACCOUNT) }
      : {}),
    logger: (line) => console.log(`[twilio-sim] ${line}`),
    ...(process.env.SIM_STATE_FILE ? { stateFile: process.env.SIM_STATE_FILE } : {}),
  });
  const stop = () => {
    simulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
