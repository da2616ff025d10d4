/**
 * aws-local-stepfunctions 3.x calls Promise.withResolvers (Node 22); Node 20 lacks it.
 * Loaded before anything else by the local stack and by jest.
 */
type Resolvers<T> = { promise: Promise<T>; resolve: (v: T | PromiseLike<T>) => void; reject: (e?: unknown) => void };
const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = <T>(): Resolvers<T> => {
    let resolve!: Resolvers<T>['resolve'];
    let reject!: Resolvers<T>['reject'];
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

// The AWS SDK warns once per process that it will need Node 22; the Lambdas run on nodejs22.x, and this machine's
// Node 20 only hosts the local stand-ins, so the warning says nothing actionable here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export {};
