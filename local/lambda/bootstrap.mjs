// One Lambda instance (an execution environment) of the local runtime: a plain `node` child process, started by
// instance.ts with only the function's environment. Like Lambda's Node.js runtime (aws-lambda-nodejs-runtime-
// interface-client) it loads the handler module from LAMBDA_TASK_ROOT at init (the `_HANDLER` setting,
// `index.handler`), then serves one event at a time: events come over the IPC channel as JSON, results and
// errors go back the same way. An uncaught exception or unhandled rejection during an invoke fails that invoke
// (as the runtime posts it) and ends the process (exit 129 / 128), so the next event gets a cold start.
// Plain JavaScript on purpose: nothing of the parent (tsx, jest) is loaded here.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The invoke being served: { id, requestId, crashPoints }. */
let current;

// Crash points (lambdas/shared/crash-points.ts, bundled into the function): the hook the bundle reads from this
// global. At a point armed for the invoke being served (the invoke message lists them) the handler waits while
// the parent decides: it SIGKILLs this process there (LambdaFaults.crashAt), or lets the handler go on.
const CRASH_POINT_HOOK = Symbol.for('ringtonic.crashPointHook');
/** The handler waiting at a crash point for the parent's answer: the resolve of its wait. */
let waitingAtCrashPoint;
globalThis[CRASH_POINT_HOOK] = (name) => {
  const invoke = current;
  if (!invoke?.crashPoints?.includes(name)) return undefined;
  return new Promise((resolve) => {
    waitingAtCrashPoint = { id: invoke.id, resolve };
    send({ type: 'crash-point', id: invoke.id, point: name });
  });
};

function send(message, then) {
  if (!process.connected) {
    then?.();
    return;
  }
  process.send(message, undefined, {}, () => then?.());
}

function toErrorResponse(error) {
  if (error instanceof Error || (error && typeof error.name === 'string' && typeof error.message === 'string')) {
    return {
      errorType: error.name,
      errorMessage: error.message,
      trace: typeof error.stack === 'string' ? error.stack.split('\n') : [],
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

function runtimeError(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** Fails the invoke being served (if any) with `error`, then exits with `code`. */
function die(error, code) {
  const invoke = current;
  current = undefined;
  if (invoke)
    send({ type: 'error', id: invoke.id, error: toErrorResponse(error), fatal: true }, () => process.exit(code));
  else process.exit(code);
}

// The parent went away (stopped, crashed, SIGKILLed): an instance never outlives its stack.
process.on('disconnect', () => process.exit(0));

process.on('uncaughtException', (error) => {
  console.error('Uncaught Exception', JSON.stringify(toErrorResponse(error)));
  die(error, 129);
});

process.on('unhandledRejection', (reason) => {
  const error = runtimeError('Runtime.UnhandledPromiseRejection', String(reason));
  console.error('Unhandled Promise Rejection', JSON.stringify(toErrorResponse(error)));
  die(error, 128);
});

async function loadHandler() {
  const taskRoot = process.env.LAMBDA_TASK_ROOT;
  const setting = process.env._HANDLER ?? '';
  const dot = setting.lastIndexOf('.');
  if (!taskRoot || dot <= 0) throw runtimeError('Runtime.MalformedHandlerName', `Bad handler ${setting}`);
  const moduleName = setting.slice(0, dot);
  const exportName = setting.slice(dot + 1);
  const file = ['.mjs', '.js', '.cjs']
    .map((extension) => path.join(taskRoot, `${moduleName}${extension}`))
    .find((candidate) => existsSync(candidate));
  if (!file) throw runtimeError('Runtime.ImportModuleError', `Error: Cannot find module '${moduleName}'`);
  const module = await import(pathToFileURL(file).href);
  const handler = module[exportName];
  if (typeof handler !== 'function') {
    throw runtimeError('Runtime.HandlerNotFound', `${setting} is undefined or not exported`);
  }
  return handler;
}

function contextFor(message) {
  const { deadlineMs } = message;
  const unsupported = () => {
    throw new Error('done/fail/succeed are not supported here: return a result from an async handler');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: message.invokedFunctionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: message.requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

async function serve(handler, message) {
  current = { id: message.id, requestId: message.requestId, crashPoints: message.crashPoints };
  const started = performance.now();
  const finish = (reply) => {
    if (current?.id !== message.id) return;
    current = undefined;
    send({ ...reply, id: message.id, durationMs: performance.now() - started });
  };
  // Faults the stack injects (LambdaFaults): they act where the handler would.
  if (message.fault === 'throw') {
    finish({
      type: 'error',
      error: toErrorResponse(new Error(`Injected failure of ${process.env.AWS_LAMBDA_FUNCTION_NAME}`)),
    });
    return;
  }
  if (message.fault === 'crash') process.exit(1);
  if (message.fault === 'hang') return; // until the timeout kills this instance
  try {
    const event = JSON.parse(message.event);
    const result = await handler(event, contextFor(message));
    let payload;
    try {
      payload = JSON.stringify(result === undefined ? null : result);
    } catch (error) {
      throw runtimeError('Runtime.MarshalError', `Unable to stringify response body: ${error.message}`);
    }
    finish({ type: 'result', result: payload });
  } catch (error) {
    console.error('Invoke Error', JSON.stringify(toErrorResponse(error)));
    finish({ type: 'error', error: toErrorResponse(error) });
  }
}

async function main() {
  const started = performance.now();
  let handler;
  try {
    handler = await loadHandler();
  } catch (error) {
    console.error('Init Error', JSON.stringify(toErrorResponse(error)));
    send({ type: 'init-error', error: toErrorResponse(error) }, () => process.exit(1));
    return;
  }
  process.on('message', (message) => {
    if (message?.type === 'invoke') void serve(handler, message);
    else if (message?.type === 'crash-point-passed' && waitingAtCrashPoint?.id === message.id) {
      const { resolve } = waitingAtCrashPoint;
      waitingAtCrashPoint = undefined;
      resolve();
    }
  });
  send({ type: 'ready', initMs: performance.now() - started });
}

void main();
