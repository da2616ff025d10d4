import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { awsClientConfig } from '../../shared/aws-clients';
import type { PortWorkflowInput } from '../../shared/workflow-contract';
import type { WorkflowClient } from '../../use-cases/ports';
import { traced } from '../observability/tracer';

/** Errors that mean "that task is no longer waiting": the wake came too late or twice, which is fine. */
const STALE_TOKEN_ERRORS = new Set(['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken']);

/** Starts and wakes port workflows on Step Functions. */
export class StepFunctionsWorkflowClient implements WorkflowClient {
  constructor(
    /** Needed only to start executions; waking a task needs just its token. */
    private readonly stateMachineArn: string | undefined,
    private readonly client: SFNClient = traced(new SFNClient(awsClientConfig)),
  ) {}

  async startPortWorkflow(input: PortWorkflowInput): Promise<void> {
    if (!this.stateMachineArn) throw new Error('STATE_MACHINE_ARN is not configured for this function');
    try {
      await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          // One execution per port request: the name makes a retried start harmless.
          name: input.portRequestId,
          input: JSON.stringify(input),
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
    }
  }

  async completeTask(token: string, output: unknown): Promise<boolean> {
    try {
      await this.client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
      return true;
    } catch (error) {
      if (STALE_TOKEN_ERRORS.has((error as Error).name)) return false;
      throw error;
    }
  }
}
