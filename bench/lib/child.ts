import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Runs a bench TypeScript module in a fresh Node process (through tsx). Each local-stack scenario gets its own
 * process: the handlers read their environment once, at their first load, into one module cache per process, so a
 * second stack in the same process would talk to the first one's (closed) stand-ins; and peak RSS is then the
 * scenario's own.
 */
export async function runTsChild<T>(
  script: string,
  config: unknown,
  options: { timeoutMs: number; log?: (line: string) => void },
): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ringtonic-bench-'));
  const resultFile = path.join(dir, 'result.json');
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(config), resultFile], {
      cwd: path.resolve(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    });
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      for (const line of text.split('\n')) if (line.trim()) options.log?.(line);
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr = `${stderr}${text}`.slice(-20_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(timer);
    if (code !== 0) {
      throw new Error(`${path.basename(script)} exited with ${code ?? 'a signal (timeout?)'}:\n${stderr.slice(-4000)}`);
    }
    return JSON.parse(readFileSync(resultFile, 'utf8')) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The scenario side: reads the config from argv, runs `main`, writes its answer where the parent reads it. */
export function scenarioMain<C, R>(main: (config: C) => Promise<R>): void {
  const config = JSON.parse(process.argv[2] ?? '{}') as C;
  const resultFile = process.argv[3];
  main(config)
    .then((result) => {
      if (resultFile) writeFileSync(resultFile, JSON.stringify(result));
      // Stand-ins may leave timers behind (aws-local-stepfunctions, SES): the answer is written, leave.
      process.exit(0);
    })
    .catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    });
}

/** Runs the load generator in its own process and answers its result. */
export async function runLoadGenerator<T>(config: unknown, timeoutMs: number): Promise<T> {
  const script = path.resolve(__dirname, '..', 'load-generator.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`load generator exited with ${code}: ${stderr.slice(-2000)}`);
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as T;
}
