/** The input of one port request's execution. Written by the product API, read by the state machine. */
export interface PortWorkflowInput {
  readonly accountId: string;
  readonly portRequestId: string;
  readonly route: 'API' | 'MANUAL';
  readonly cadence: {
    /** How long WaitForPortUpdate waits for a webhook before it reads Twilio itself (TimeoutSecondsPath). */
    readonly pollIntervalSeconds: number;
    /** How often a "do not cancel yet" reminder goes out while the port is open. */
    readonly reminderIntervalSeconds: number;
  };
}

/** Payload of the WaitForPortUpdate callback task. */
export interface WaitForPortUpdatePayload {
  readonly token: string;
  readonly accountId: string;
  readonly portRequestId: string;
}

/** What a workflow step that touches a port request returns to the state machine. */
export interface PortStepResult {
  readonly status: string;
}
