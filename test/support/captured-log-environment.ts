import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import { TestEnvironment } from 'jest-environment-node';

/**
 * Jest's node environment with the functions' output kept out of the report. What code under test writes to
 * `process.stdout` and `process.stderr` (Powertools' JSON logs and EMF metrics, the local stack's log) is captured
 * per test: a test that passes prints nothing, a test (or hook) that fails has its lines printed after jest's report
 * of it, and every line of the file goes to `test-output/test-logs/<test file>.log`. Jest's own console keeps
 * working as before. Nothing changes in what runs in AWS: the functions still write to stdout, only the tests'
 * sandbox decides where that goes. `LOCAL_STACK_LOG=1` lets everything through, as before.
 */
export default class CapturedLogEnvironment extends TestEnvironment {
  private readonly testFile: string;
  private readonly rootDir: string;
  private readonly passThrough = Boolean(process.env.LOCAL_STACK_LOG);
  /** Every captured line of the file, in order, each tagged with the test it came in. */
  private readonly all: string[] = [];
  /** The lines since the current test (or the file's hooks) started. */
  private segment: string[] = [];
  private segmentName = '(file set-up)';
  private segmentFailed = false;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.testFile = context.testPath;
    this.rootDir = config.globalConfig.rootDir;
    if (this.passThrough) return;
    const sandboxProcess = this.global.process;
    for (const stream of ['stdout', 'stderr'] as const) {
      const real = process[stream];
      const capture = new Writable({
        write: (chunk: Buffer | string, _encoding, done) => {
          this.keep(chunk.toString());
          done();
        },
      });
      // Code that checks for a terminal or asks its width sees the real stream's answers.
      Object.assign(capture, { isTTY: false, columns: real.columns, fd: real.fd });
      Object.defineProperty(sandboxProcess, stream, { configurable: true, enumerable: true, value: capture });
    }
  }

  private keep(text: string): void {
    for (const line of text.split('\n')) {
      if (line === '') continue;
      this.segment.push(line);
      this.all.push(`[${this.segmentName}] ${line}`);
    }
  }

  async handleTestEvent(event: Circus.Event): Promise<void> {
    if (this.passThrough) return;
    switch (event.name) {
      case 'test_start':
        this.flush();
        this.segmentName = testName(event.test);
        break;
      case 'test_fn_failure':
      case 'hook_failure':
        this.segmentFailed = true;
        break;
      case 'test_done':
        this.flush();
        this.segmentName = '(hooks)';
        break;
      case 'run_finish':
        this.flush();
        break;
    }
  }

  /** Ends the current segment: printed to the real stderr if something in it failed, else only kept in the file. */
  private flush(): void {
    if (this.segmentFailed && this.segment.length > 0) {
      const heading = `── output of ${path.relative(this.rootDir, this.testFile)} › ${this.segmentName} (it failed) ──`;
      process.stderr.write(`${heading}\n${this.segment.join('\n')}\n`);
    }
    this.segment = [];
    this.segmentFailed = false;
  }

  override async teardown(): Promise<void> {
    if (!this.passThrough && this.all.length > 0) {
      const file = path.join(
        this.rootDir,
        'test-output',
        'test-logs',
        `${path.relative(this.rootDir, this.testFile)}.log`,
      );
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `${this.all.join('\n')}\n`);
    }
    await super.teardown();
  }
}

function testName(test: Circus.TestEntry): string {
  const names: string[] = [];
  for (let block: Circus.TestEntry | Circus.DescribeBlock | undefined = test; block; block = block.parent) {
    if (block.name !== 'ROOT_DESCRIBE_BLOCK') names.unshift(block.name);
  }
  return names.join(' › ');
}
