// A function for the tests of the local Lambda runtime (test/integration/local-lambda.test.ts), run by it as a
// bundle of its own (`index.handler`). The event says what to do; the answer tells what the instance saw: its
// process, its environment, its context and the remaining time before and after the work.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let invocations = 0;

export const handler = async (event, context) => {
  invocations += 1;
  const remainingAtStart = context.getRemainingTimeInMillis();
  console.log(`probe ${context.functionName} ${event.action ?? 'echo'} ${context.awsRequestId}`);
  switch (event.action) {
    case 'sleep':
      await sleep(event.ms);
      break;
    case 'exit':
      process.exit(event.code ?? 1);
      break;
    case 'throw': {
      const error = new Error(event.message);
      error.name = event.name;
      throw error;
    }
    case 'crash-point': {
      // As lambdas/shared/crash-points.ts does it (the bundle reads the hook the bootstrap installs).
      const wait = globalThis[Symbol.for('ringtonic.crashPointHook')]?.(event.point);
      if (wait) await wait;
      console.log(`probe past ${event.point} ${event.tag}`);
      break;
    }
    case 'throw-outside-the-handler':
      setTimeout(() => {
        throw new TypeError('thrown from a timer');
      }, 10);
      await sleep(60_000);
      break;
    default:
      break;
  }
  return {
    pid: process.pid,
    invocations,
    tag: event.tag,
    env: { ...process.env },
    context: {
      awsRequestId: context.awsRequestId,
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      memoryLimitInMB: context.memoryLimitInMB,
      invokedFunctionArn: context.invokedFunctionArn,
      logGroupName: context.logGroupName,
      logStreamName: context.logStreamName,
    },
    remainingAtStart,
    remainingAtEnd: context.getRemainingTimeInMillis(),
  };
};
