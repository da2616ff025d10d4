import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AutoAdvancer } from './auto-advance';
import { CallExchange } from './call-exchange';
import { callsRoutes } from './calls-routes';
import { controlRoutes } from './control-routes';
import { defaultErrorCode, readBody, SimError, type SimResponse, twilioErrorBody } from './http';
import { incomingNumbersRoutes } from './incoming-numbers-routes';
import { StoreFile } from './persistence';
import { PortInLifecycle } from './port-in-lifecycle';
import { portingRoutes } from './porting-routes';
import { type RealismCounters, SimulatorRealism, type SimulatorRealismOptions } from './realism';
import type { Route, SimulatorParts } from './routing';
import { SimulatorStore } from './state';
import { WebhookDispatcher } from './webhooks';

/** Options of startTwilioSimulator (latency and Twilio's concurrency limit: SimulatorRealismOptions). */
export interface TwilioSimulatorOptions extends SimulatorRealismOptions {
  /** 0 picks a free port. Default 4010. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * Walk every new request to Completed by itself (demos), a step every `autoAdvanceStepMs`. With `stateFile`, the
   * requests restored on the walk carry on where they were: the steps that fell due while the simulator was down
   * are taken at once after start, in order, the others when they are due.
   */
  autoAdvance?: boolean;
  /** Time between automatic steps. Default 1500 ms. */
  autoAdvanceStepMs?: number;
  /** Waits before each webhook retry after a failed delivery. Default 250, 1000, 3000 ms. */
  webhookRetryDelaysMs?: readonly number[];
  logger?: (line: string) => void;
  /**
   * A JSON file the simulator's accounts, port-ins (with their auto-advance walks) and webhooks not yet delivered are
   * loaded from and kept in (written before each change is answered), so that a restart meets the same Twilio,
   * which sends those webhooks then. In memory only when absent.
   */
  stateFile?: string;
  /**
   * Public URL prefix → local base URL: requests Twilio would make to the public URL (a number's voice URL, say) go
   * to the local one, signed over the public URL. More can be added with `POST /_sim/url-rewrites`.
   */
  urlRewrites?: Record<string, string>;
  /** How long a voice URL may take to answer a call before Twilio gives up on it. Default 15000 ms, as Twilio. */
  voiceUrlTimeoutMs?: number;
}

/** A running simulator. */
export interface TwilioSimulator {
  /** Base URL, e.g. http://127.0.0.1:4010: the `apiBaseUrl` of createTwilioClient. */
  url: string;
  /** What the latency and concurrency limit options did (429s answered, most requests of one account at once). */
  readonly realism: Readonly<RealismCounters>;
  close(): Promise<void>;
}

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;

/** Checks HTTP Basic `AC…:token`: the first token seen for an Account SID is its token from then on. */
function authenticate(header: string | undefined, store: SimulatorStore): string {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) throw new SimError(401, 20003, 'Authentication Error - No credentials provided');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const accountSid = colon < 0 ? decoded : decoded.slice(0, colon);
  const authToken = colon < 0 ? '' : decoded.slice(colon + 1);
  if (!ACCOUNT_SID.test(accountSid) || authToken === '') {
    throw new SimError(401, 20003, 'Authentication Error - invalid username');
  }
  const account = store.account(accountSid);
  account.authToken ??= authToken;
  if (account.authToken !== authToken) throw new SimError(401, 20003, 'Authenticate');
  return accountSid;
}

function matchRoute(routes: readonly Route[], method: string, pathname: string) {
  const onPath = routes.filter((route) => route.path.test(pathname));
  if (onPath.length === 0) throw new SimError(404, 20404, `The requested resource ${pathname} was not found`);
  const route = onPath.find((r) => r.method === method);
  if (!route) throw new SimError(405, 20004, `Method ${method} not allowed on ${pathname}`);
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(route.path.exec(pathname)?.groups ?? {})) {
    try {
      params[name] = decodeURIComponent(value);
    } catch {
      throw new SimError(404, 20404, `The requested resource ${pathname} was not found`);
    }
  }
  return { route, params };
}

function writeResponse(res: ServerResponse, response: SimResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  if (response.body === undefined) {
    res.writeHead(response.status, headers).end();
    return;
  }
  headers['Content-Type'] = 'application/json; charset=utf-8';
  res.writeHead(response.status, headers).end(JSON.stringify(response.body));
}

/**
 * Starts the in-memory Twilio simulator (Porting v1, Documents upload, 2010 IncomingPhoneNumbers and Calls, /_sim
 * control).
 */
export async function startTwilioSimulator(options: TwilioSimulatorOptions = {}): Promise<TwilioSimulator> {
  const logger = options.logger ?? (() => {});
  const store = new SimulatorStore();
  const storeFile: StoreFile | undefined = options.stateFile
    ? new StoreFile(store, options.stateFile, () => webhooks.outstanding())
    : undefined;
  const webhooks = new WebhookDispatcher(store, options.webhookRetryDelaysMs ?? [250, 1000, 3000], logger, {
    saved: () => storeFile?.saved() ?? Promise.resolve(),
    settled: () => storeFile?.saveSoon(),
  });
  // Twilio goes on with the deliveries it had not made when it stopped.
  webhooks.resend(storeFile?.restoredWebhooks ?? []);
  // A request's changes are written before it is answered, any change before its webhooks leave, an auto-advance
  // step and a delivery's outcome soon after; the rest (a token first seen on a GET) within this interval.
  const saveTimer = storeFile ? setInterval(() => storeFile.save(), 500).unref() : undefined;
  const lifecycle = new PortInLifecycle(store, webhooks);
  // Always there, so that explicit control ends a walk kept in the state file even while auto-advance is off.
  const autoAdvancer = new AutoAdvancer(store, lifecycle, {
    enabled: options.autoAdvance ?? false,
    stepMs: options.autoAdvanceStepMs ?? 1500,
    persist: () => storeFile?.saveSoon(),
  });
  for (const [publicUrl, localUrl] of Object.entries(options.urlRewrites ?? {})) {
    store.urlRewrites.set(publicUrl, localUrl);
  }
  const calls = new CallExchange(store, {
    ...(options.voiceUrlTimeoutMs !== undefined ? { voiceUrlTimeoutMs: options.voiceUrlTimeoutMs } : {}),
    logger,
    persist: () => storeFile?.saveSoon(),
  });
  // Calls that were going when the simulator stopped do not go on.
  const interrupted = calls.settleInterrupted();
  if (interrupted > 0) logger(`calls: ${interrupted} calls left going at the last stop ended`);
  const parts: SimulatorParts = { store, lifecycle, webhooks, autoAdvancer, calls };
  const resetAll = () => {
    autoAdvancer.stopAll();
    calls.dropAll();
    store.reset();
    webhooks.reset();
  };
  const routes = [
    ...portingRoutes(parts),
    ...incomingNumbersRoutes(parts),
    ...callsRoutes(parts),
    ...controlRoutes(parts, resetAll),
  ];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://simulator');
    let response: SimResponse;
    let delayMs = 0;
    try {
      const body = await readBody(req);
      const { route, params } = matchRoute(routes, method, url.pathname);
      const accountSid = route.authenticated ? authenticate(req.headers.authorization, store) : '';
      const fault = route.operation ? store.takeFault(route.operation) : undefined;
      // A slow Twilio: the call is carried out now, its answer (or error) sent late.
      delayMs = fault?.delayMs ?? 0;
      if (fault?.status === 0) {
        // "No answer": hold the request until the client gives up (or close() drops the socket).
        logger(`${method} ${url.pathname} -> (fault: no answer)`);
        return;
      }
      if (fault?.status !== undefined) {
        throw new SimError(
          fault.status,
          fault.code ?? defaultErrorCode(fault.status),
          fault.message ?? `Simulated failure of ${route.operation}`,
        );
      }
      response = await route.handle({ method, url, params, headers: req.headers, body, accountSid });
    } catch (error) {
      if (error instanceof SimError) {
        response = {
          status: error.status,
          body: twilioErrorBody(error.status, error.code, error.message),
          ...(error.status === 401 ? { headers: { 'WWW-Authenticate': 'Basic realm="Twilio API"' } } : {}),
        };
      } else {
        logger(`${method} ${url.pathname} failed: ${error instanceof Error ? error.stack : String(error)}`);
        response = { status: 500, body: twilioErrorBody(500, 20500, 'Internal Server Error') };
      }
    }
    logger(`${method} ${url.pathname}${url.search} -> ${response.status}`);
    if (method !== 'GET') storeFile?.save();
    if (delayMs > 0) {
      logger(`${method} ${url.pathname} answering in ${delayMs} ms (fault)`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (res.destroyed) return;
    }
    writeResponse(res, response);
  }

  const realism = new SimulatorRealism(options);
  const server = createServer((req, res) => {
    realism
      .around(req, res, () => handle(req, res))
      .catch((error: unknown) => {
        logger(`response failed: ${String(error)}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4010, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger(`Twilio simulator listening on ${url}${autoAdvancer.enabled ? ' (auto-advance on)' : ''}`);
  // Walks restored from the state file carry on now that the simulator answers.
  const resumed = autoAdvancer.resume();
  if (resumed > 0) logger(`auto-advance: ${resumed} restored port-ins walk on`);

  return {
    url,
    realism: realism.counters,
    close: async () => {
      clearInterval(saveTimer);
      // Walks and webhooks not yet delivered stay in the state file, for the next start to carry on.
      storeFile?.close();
      autoAdvancer.stopAll();
      webhooks.close();
      calls.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Also drops keep-alive sockets and requests held by a "no answer" fault.
        server.closeAllConnections();
      });
    },
  };
}
