import { lazy } from '../../lambdas/shared/lazy';

describe('lazy', () => {
  it('makes nothing until first asked, then makes the value once and answers it every time', () => {
    const create = jest.fn(() => ({ made: true }));
    const value = lazy(create);
    expect(create).not.toHaveBeenCalled();
    const first = value();
    expect(value()).toBe(first);
    expect(value()).toBe(first);
    expect(create).toHaveBeenCalledTimes(1);
  });

  it('keeps a falsy value made once (undefined, as the tracer is outside Lambda)', () => {
    const create = jest.fn((): undefined => undefined);
    const value = lazy(create);
    expect(value()).toBeUndefined();
    expect(value()).toBeUndefined();
    expect(create).toHaveBeenCalledTimes(1);
  });

  it('tries again after a create that threw', () => {
    let calls = 0;
    const value = lazy(() => {
      calls += 1;
      if (calls === 1) throw new Error('not yet');
      return calls;
    });
    expect(() => value()).toThrow('not yet');
    expect(value()).toBe(2);
    expect(value()).toBe(2);
  });

  it('shares one promise between concurrent first callers (one module load)', async () => {
    const create = jest.fn(async () => ({ module: true }));
    const load = lazy(create);
    const [a, b] = await Promise.all([load(), load()]);
    expect(a).toBe(b);
    expect(create).toHaveBeenCalledTimes(1);
  });
});
