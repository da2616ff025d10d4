import type { IncomingHttpHeaders } from 'node:http';
import type { AutoAdvancer } from './auto-advance';
import type { CallExchange } from './call-exchange';
import type { SimResponse } from './http';
import type { PortInLifecycle } from './port-in-lifecycle';
import type { OperationName, SimulatorStore } from './state';
import type { WebhookDispatcher } from './webhooks';

/** What a handler sees of a request. */
export interface RequestContext {
  method: string;
  url: URL;
  /** Named groups of the route's path pattern, URI-decoded. */
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The authenticated Account SID; empty on control routes. */
  accountSid: string;
}

/** One HTTP route of the simulator. */
export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** Anchored pattern of the path; named groups become `params`. */
  path: RegExp;
  /** Twilio routes: Basic auth required. Control routes: none. */
  authenticated: boolean;
  /** The name `/_sim/faults` uses for this route. */
  operation?: OperationName;
  handle(context: RequestContext): SimResponse | Promise<SimResponse>;
}

/** The parts of the simulator that routes work with. */
export interface SimulatorParts {
  store: SimulatorStore;
  lifecycle: PortInLifecycle;
  webhooks: WebhookDispatcher;
  autoAdvancer: AutoAdvancer;
  calls: CallExchange;
}
