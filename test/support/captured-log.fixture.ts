/**
 * Not a test of its own (jest's testMatch needs `.test.`): test/unit/captured-log-environment.test.ts runs it in a
 * child jest to see what the captured-log environment prints for a passing and a failing test.
 */
describe('captured output', () => {
  it('passes quietly', () => {
    process.stdout.write('{"level":"INFO","message":"from the passing test"}\n');
    expect(true).toBe(true);
  });

  it('fails loudly', () => {
    process.stdout.write('{"level":"ERROR","message":"from the failing test"}\n');
    process.stderr.write('stderr of the failing test\n');
    expect(process.env.CAPTURED_LOG_FIXTURE_SHOULD_FAIL).toBeUndefined();
  });
});
