import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURE = 'test/support/captured-log.fixture.ts';

/** Runs the fixture in a child jest with the project's config, the fixture's failing test failing or not. */
function runFixture(fail: boolean) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.LOCAL_STACK_LOG;
  if (fail) env.CAPTURED_LOG_FIXTURE_SHOULD_FAIL = '1';
  else delete env.CAPTURED_LOG_FIXTURE_SHOULD_FAIL;
  const run = spawnSync(
    process.execPath,
    [
      require.resolve('jest/bin/jest'),
      '--ci',
      '--roots',
      '<rootDir>/test/support',
      '--testMatch',
      `**/${path.basename(FIXTURE)}`,
      FIXTURE,
    ],
    { cwd: ROOT, env, encoding: 'utf8' },
  );
  const log = readFileSync(path.join(ROOT, 'test-output', 'test-logs', `${FIXTURE}.log`), 'utf8');
  return { status: run.status, output: `${run.stdout}${run.stderr}`, log };
}

describe('the captured-log test environment', () => {
  it('prints nothing of what passing tests write, and keeps every line in the file log', () => {
    const { status, output, log } = runFixture(false);
    expect(status).toBe(0);
    expect(output).not.toContain('from the passing test');
    expect(output).not.toContain('from the failing test');
    expect(log).toContain('[captured output › passes quietly] {"level":"INFO","message":"from the passing test"}');
    expect(log).toContain('[captured output › fails loudly] stderr of the failing test');
  }, 60000);

  it("prints a failing test's lines, and only its own", () => {
    const { status, output } = runFixture(true);
    expect(status).toBe(1);
    expect(output).toContain('output of test/support/captured-log.fixture.ts › captured output › fails loudly');
    expect(output).toContain('from the failing test');
    expect(output).toContain('stderr of the failing test');
    expect(output).not.toContain('from the passing test');
  }, 60000);
});
