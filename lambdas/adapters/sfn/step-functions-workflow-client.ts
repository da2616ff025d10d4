import type { SFNClient } from '@aws-sdk/client-sfn';
import { awsClientConfig, awsClientOnFirstUse } from '../../shared/aws-clients';
import { lazy } from '../../shared/lazy';
import type { PortWorkflowInput } from '../../shared/workflow-contract';
import type { WorkflowClient } from '../../use-cases/ports';
import { traced } from '../observability/tracer';

/** Errors that mean "that task is no longer waiting": the wake came too late or twice, which is fine. */
const STALE_TOKEN_ERRORS = new Set(['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken']);

const sfn = lazy(() => import('@aws-sdk/client-sfn'));

/** Starts and wakes port workflows on Step Functions. */
export class StepFunctionsWorkflowClient implements WorkflowClient {
  constructor(
    /** Needed only to start executions; waking a task needs just its token. */
    private readonly stateMachineArn: string | undefined,
    client?: SFNClient,
  ) {
    this.client = awsClientOnFirstUse(sfn, (sdk) => traced(new sdk.SFNClient(awsClientConfig)), client);
  }

  private readonly client: () => Promise<SFNClient>;

  async startPortWorkflow(input: PortWorkflowInput): Promise<void> {
    if (!this.stateMachineArn) throw new Error('STATE_MACHINE_ARN is not configured for this function');
    const { StartExecutionCommand } = await sfn();
    const client = await this.client();
    try {
      await client.send(
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
    const { SendTaskSuccessCommand } = await sfn();
    const client = await this.client();
    try {
      await client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
      return true;
    } catch (error) {
      if (STALE_TOKEN_ERRORS.has((error as Error).name)) return false;
      throw error;
    }
  }
}
