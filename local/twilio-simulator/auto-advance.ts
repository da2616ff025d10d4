import { focDateAhead, type NumberChange, type PortInChange, type PortInLifecycle } from './port-in-lifecycle';
import { CLOSED_REQUEST_STATUSES, type PortInRequest, type SimulatorStore } from './state';

/** The demo path of a port that goes well, one step per tick. */
const STEPS: ReadonlyArray<(request: PortInRequest) => PortInChange> = [
  () => ({ status: 'Waiting for Signature' }),
  () => ({ status: 'In Progress' }),
  (request) => ({
    numbers: new Map<string, NumberChange>(
      request.numbers
        .filter((n) => n.status === 'port_submitted')
        .map((n) => [n.phoneNumber, { status: 'port_pending', portDate: focDateAhead(3) }]),
    ),
  }),
  () => ({ status: 'Completed' }),
];

/** Options of the AutoAdvancer. */
export interface AutoAdvancerOptions {
  /** Off: new requests are not walked, and walks restored from the state file wait where they are. */
  readonly enabled: boolean;
  /** Time between automatic steps. */
  readonly stepMs: number;
  /** Asks for the state to be saved soon (the state file), after each step. */
  readonly persist?: () => void;
}

/**
 * Moves new requests In Review → Waiting for Signature → In Progress → FOC → Completed by itself, on a fixed
 * schedule: step n is due n steps after the request was created. Where each walk stands is kept on the request
 * (`autoAdvance`), so `resume()` carries restored walks on after a restart.
 */
export class AutoAdvancer {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: SimulatorStore,
    private readonly lifecycle: PortInLifecycle,
    private readonly options: AutoAdvancerOptions,
  ) {}

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Starts the walk of a new request: its first step is due one step from now. */
  start(request: PortInRequest): void {
    if (!this.options.enabled) return;
    request.autoAdvance = { step: 0, dueAt: new Date(Date.now() + this.options.stepMs) };
    this.arm(request);
  }

  /**
   * Carries on the walks restored from the state file, earliest due first: the steps that fell due while the
   * simulator was down are taken at once, in order, and the rest when they are due. Answers how many resumed.
   */
  resume(): number {
    if (!this.options.enabled) return 0;
    const walking = [...this.store.portIns.values()]
      .filter((request) => request.autoAdvance && !this.timers.has(request.sid))
      .sort((a, b) => dueTime(a) - dueTime(b) || a.sequence - b.sequence);
    for (const request of walking) this.arm(request);
    return walking.length;
  }

  /** Hands the request over to explicit control (control route, cancel): no more automatic steps, ever. */
  stop(request: PortInRequest): void {
    clearTimeout(this.timers.get(request.sid));
    this.timers.delete(request.sid);
    request.autoAdvance = undefined;
  }

  /** Cancels every pending timer (close, reset); the walks stay on their requests for a restart to resume. */
  stopAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private arm(request: PortInRequest): void {
    const timer = setTimeout(() => this.take(request.sid), Math.max(0, dueTime(request) - Date.now()));
    // A pending demo step must not keep the process alive on its own.
    timer.unref();
    this.timers.set(request.sid, timer);
  }

  private take(requestSid: string): void {
    this.timers.delete(requestSid);
    const request = this.store.portIns.get(requestSid);
    const walk = request?.autoAdvance;
    if (!request || !walk) return;
    const step = STEPS[walk.step];
    if (!step || CLOSED_REQUEST_STATUSES.includes(request.status)) {
      request.autoAdvance = undefined;
    } else {
      this.lifecycle.change(request, step(request));
      // The next step keeps the schedule: one step after this one was due, not after it was taken.
      request.autoAdvance =
        walk.step + 1 < STEPS.length
          ? { step: walk.step + 1, dueAt: new Date(walk.dueAt.getTime() + this.options.stepMs) }
          : undefined;
      if (request.autoAdvance) this.arm(request);
    }
    // Its webhooks leave once the step is saved with the next one (WebhookPersistence): after a kill, a restart
    // either takes the step for the first time or only sends its webhooks still due.
    this.options.persist?.();
  }
}

function dueTime(request: PortInRequest): number {
  return request.autoAdvance?.dueAt.getTime() ?? 0;
}
