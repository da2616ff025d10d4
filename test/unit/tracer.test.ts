/** The tracer exists in Lambda (AWS_EXECUTION_ENV) and nowhere else, so the X-Ray SDK loads only where it traces. */
describe('tracer', () => {
  const saved = { env: process.env.AWS_EXECUTION_ENV, enabled: process.env.POWERTOOLS_TRACE_ENABLED };
  afterEach(() => {
    for (const [key, value] of [
      ['AWS_EXECUTION_ENV', saved.env],
      ['POWERTOOLS_TRACE_ENABLED', saved.enabled],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  const load = () => {
    let module: typeof import('../../lambdas/adapters/observability/tracer') | undefined;
    jest.isolateModules(() => {
      module = require('../../lambdas/adapters/observability/tracer');
    });
    return module as typeof import('../../lambdas/adapters/observability/tracer');
  };

  it('is not made at load, even in Lambda: the X-Ray SDK loads with the first invocation', () => {
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
    delete process.env.POWERTOOLS_TRACE_ENABLED;
    let xraySdkLoaded = false;
    jest.isolateModules(() => {
      jest.doMock('@aws-lambda-powertools/tracer', () => {
        xraySdkLoaded = true;
        return jest.requireActual('@aws-lambda-powertools/tracer');
      });
      const { tracer } = require('../../lambdas/adapters/observability/tracer');
      expect(xraySdkLoaded).toBe(false);
      expect(tracer()?.constructor.name).toBe('Tracer');
      expect(xraySdkLoaded).toBe(true);
    });
    jest.dontMock('@aws-lambda-powertools/tracer');
  });

  it('is a Powertools Tracer in Lambda, and wraps SDK clients', () => {
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
    delete process.env.POWERTOOLS_TRACE_ENABLED;
    const { tracer } = load();
    expect(tracer()?.constructor.name).toBe('Tracer');
    expect(tracer()).toBe(tracer());
  });

  it('is absent outside Lambda or when turned off, and clients are left as they are', () => {
    delete process.env.AWS_EXECUTION_ENV;
    const outside = load();
    expect(outside.tracer()).toBeUndefined();
    const client = { send: () => undefined };
    expect(outside.traced(client)).toBe(client);

    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
    process.env.POWERTOOLS_TRACE_ENABLED = 'false';
    expect(load().tracer()).toBeUndefined();
  });
});
