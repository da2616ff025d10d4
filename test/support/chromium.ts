import { spawnSync } from 'node:child_process';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { brotliDecompressSync, createBrotliDecompress } from 'node:zlib';

/** What playwright-core's `chromium.launch` needs to start a headless Chromium on this machine. */
export interface HeadlessChromium {
  executablePath: string;
  args: string[];
  /** The environment Chromium needs (its libraries and fonts), merged over this process's. */
  env: Record<string, string>;
  /** Where the browser came from, for the error a failing test prints. */
  source: string;
}

// Without the background-networking flags Chromium keeps dialling Google's hosts, which this closed network refuses.
const QUIET_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const PACKAGE_DIR = path.join(REPO_ROOT, 'node_modules', '@sparticuz', 'chromium');

/**
 * A headless Chromium for the tests, with nothing installed on the machine: `CHROMIUM_PATH` when one is configured
 * (a system Chromium, say `/usr/bin/chromium`), else the browser that `@sparticuz/chromium` ships inside its npm
 * package (pinned in the lockfile), unpacked once into `node_modules/.cache/` with its libraries and fonts.
 * Installers that download a browser at install time do not work on machines without internet; this one does.
 */
export async function headlessChromium(): Promise<HeadlessChromium> {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH=${configured} does not exist`);
    return { executablePath: configured, args: QUIET_ARGS, env: {}, source: `CHROMIUM_PATH (${configured})` };
  }
  const dir = await unpackedPackagedChromium();
  return {
    executablePath: path.join(dir, 'chromium'),
    // --single-process and --no-zygote as the package's own flags have them: its build runs without a zygote.
    args: [...QUIET_ARGS, '--single-process', '--no-zygote', '--font-render-hinting=none'],
    env: { LD_LIBRARY_PATH: path.join(dir, 'lib'), FONTCONFIG_FILE: path.join(dir, 'fonts.conf') },
    source: `@sparticuz/chromium ${packageVersion()} unpacked in ${dir}`,
  };
}

function packageVersion(): string {
  const manifest = require(path.join(PACKAGE_DIR, 'package.json')) as { version: string };
  return manifest.version;
}

/**
 * Unpacks the brotli files of the package (the browser, the libraries it needs beyond a bare Linux, its fonts and
 * SwiftShader) into a folder named after the version. Unpacked into a staging folder and renamed into place, so a
 * run killed half-way never leaves a half browser that the next run would trust.
 */
async function unpackedPackagedChromium(): Promise<string> {
  if (!existsSync(PACKAGE_DIR)) {
    throw new Error(`${PACKAGE_DIR} is missing: run npm ci (the package is a devDependency in the lockfile)`);
  }
  const dir = path.join(REPO_ROOT, 'node_modules', '.cache', `sparticuz-chromium-${packageVersion()}`);
  if (existsSync(path.join(dir, 'chromium'))) return dir;
  const staging = `${dir}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const bin = path.join(PACKAGE_DIR, 'bin');
  await pipeline(
    createReadStream(path.join(bin, 'chromium.br')),
    createBrotliDecompress(),
    createWriteStream(path.join(staging, 'chromium'), { mode: 0o755 }),
  );
  // al2023.tar.br holds lib/ (NSS, expat); fonts.tar.br holds fonts/; swiftshader sits beside the binary.
  for (const archive of ['al2023.tar.br', 'fonts.tar.br', 'swiftshader.tar.br']) {
    untarBrotli(path.join(bin, archive), staging);
  }
  // The package's fonts.conf names Lambda's folders; this one names ours.
  writeFileSync(
    path.join(staging, 'fonts.conf'),
    [
      '<?xml version="1.0"?>',
      '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
      '<fontconfig>',
      `  <dir>${path.join(dir, 'fonts')}</dir>`,
      `  <cachedir>${path.join(dir, 'fonts-cache')}</cachedir>`,
      '</fontconfig>',
      '',
    ].join('\n'),
  );
  try {
    renameSync(staging, dir);
  } catch (error) {
    // Another test process won the race: its copy is as good as ours.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(path.join(dir, 'chromium'))) throw error;
  }
  return dir;
}

/** The archives are small (at most a few MB), so each is unpacked in memory and handed to the system's tar. */
function untarBrotli(archive: string, into: string): void {
  const tar = spawnSync('tar', ['-x', '-C', into], { input: brotliDecompressSync(readFileSync(archive)) });
  if (tar.error) throw tar.error;
  if (tar.status !== 0) throw new Error(`tar -x of ${archive} exited ${tar.status}: ${tar.stderr.toString().trim()}`);
}
