import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { LocalStack } from '../../local/stack';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** What `npm start` writes to `<DATA_DIR>/stack.json` once it is up. */
export interface StackInfo {
  readonly pid: number;
  readonly urls: LocalStack['urls'];
  readonly tableName: string;
  readonly stateMachineArn: string;
  readonly resumed: string[];
}

/** A port nothing listens on now (to give a restarted stack the same API and SES addresses). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * `npm start` (local/start.ts) as a child process, in one Node process (no tsx wrapper process), so that SIGKILL
 * ends the whole stack at once: no drain, no graceful close.
 */
export class ChildStack {
  private constructor(
    readonly child: ChildProcess,
    readonly info: StackInfo,
    private readonly output: string[],
  ) {}

  static async start(env: Record<string, string>, dataDir: string): Promise<ChildStack> {
    const infoFile = path.join(dataDir, 'stack.json');
    rmSync(infoFile, { force: true });
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'local/start.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    let exited: number | null | undefined;
    child.once('exit', (code) => {
      exited = code;
    });
    try {
      const deadline = Date.now() + 120_000;
      let info: StackInfo | undefined;
      while (!info) {
        if (exited !== undefined) throw new Error(`npm start exited (${exited})`);
        if (Date.now() > deadline) throw new Error('npm start was not up within 120 s');
        if (existsSync(infoFile)) {
          const parsed = JSON.parse(readFileSync(infoFile, 'utf8')) as StackInfo;
          if (parsed.pid === child.pid) info = parsed;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return new ChildStack(child, info, output);
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${String(error)}\n${output.join('')}`);
    }
  }

  /** A LocalStack-shaped view for the test helpers (urls and the state machine; stop() kills). */
  get stack(): LocalStack {
    return {
      urls: this.info.urls,
      stateMachineArn: this.info.stateMachineArn,
      tableName: this.info.tableName,
      resumed: this.info.resumed,
      stop: () => this.kill(),
    } as unknown as LocalStack;
  }

  get log(): string {
    return this.output.join('');
  }

  /** SIGKILL: the process ends where it is, in-flight Lambda calls and executions included. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await exited;
  }
}
