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

/** Moves new requests In Review → Waiting for Signature → In Progress → FOC → Completed by itself. */
export class AutoAdvancer {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: SimulatorStore,
    private readonly lifecycle: PortInLifecycle,
    private readonly stepMs: number,
  ) {}

  /** Starts the walk of a new request. */
  start(requestSid: string): void {
    this.schedule(requestSid, 0);
  }

  /** Hands the request over to explicit control (control route, cancel): no more automatic steps. */
  stop(requestSid: string): void {
    const timer = this.timers.get(requestSid);
    if (timer) clearTimeout(timer);
    this.timers.delete(requestSid);
  }

  /** Cancels every pending step (close, reset). */
  stopAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(requestSid: string, stepIndex: number): void {
    const step = STEPS[stepIndex];
    if (!step) {
      this.timers.delete(requestSid);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(requestSid);
      const request = this.store.portIns.get(requestSid);
      if (!request || CLOSED_REQUEST_STATUSES.includes(request.status)) return;
      this.lifecycle.change(request, step(request));
      this.schedule(requestSid, stepIndex + 1);
    }, this.stepMs);
    // A pending demo step must not keep the process alive on its own.
    timer.unref();
    this.timers.set(requestSid, timer);
  }
}
