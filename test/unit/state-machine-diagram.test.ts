import { stateMachineMermaid } from '../../scripts/state-machine-diagram';

describe('stateMachineMermaid', () => {
  const definition = {
    StartAt: 'Route',
    States: {
      Route: {
        Type: 'Choice',
        Choices: [{ Variable: '$.route', StringEquals: 'MANUAL', Next: 'Wait' }],
        Default: 'Work',
      },
      Work: {
        Type: 'Task',
        Resource: 'arn:aws:lambda:us-east-1:000000000000:function:Work',
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Failed' }],
        Next: 'Check',
      },
      Check: {
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: '$.sync.status', IsPresent: true },
              {
                Or: [
                  { Variable: '$.sync.status', StringEquals: 'CANCELED' },
                  { Variable: '$.sync.status', StringEquals: 'EXPIRED' },
                ],
              },
            ],
            Next: 'Done',
          },
          {
            And: [
              { Variable: '$.sync.emailsPending', IsPresent: true },
              { Variable: '$.sync.emailsPending', BooleanEquals: true },
            ],
            Next: 'Mail',
          },
        ],
        Default: 'Wait',
      },
      Wait: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        TimeoutSecondsPath: '$.cadence.pollIntervalSeconds',
        Next: 'Work',
      },
      Mail: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:Mail', Next: 'Wait' },
      Done: { Type: 'Succeed' },
      Failed: { Type: 'Fail', Error: 'PortInFailed' },
    },
  };

  it('draws every state with a shape for its type and every transition, catch and choice rule', () => {
    const lines = stateMachineMermaid(definition).split('\n');
    expect(lines[0]).toBe('flowchart TD');
    expect(lines).toEqual(
      expect.arrayContaining([
        '  start --> Route',
        '  Route{Route}',
        '  Work(Work)',
        '  Done([Done])',
        '  Failed[[Failed: PortInFailed]]',
        '  Route -->|$.route = MANUAL| Wait',
        '  Route -->|otherwise| Work',
        '  Work --> Check',
        '  Work -.->|States.ALL| Failed',
        // The IsPresent guard is plumbing, not a decision: it is left out of the label.
        '  Check -->|$.sync.status in CANCELED, EXPIRED| Done',
        '  Check -->|$.sync.emailsPending = true| Mail',
        '  Check -->|otherwise| Wait',
        '  Mail --> Wait',
        '  Wait --> Work',
      ]),
    );
    expect(lines.find((l) => l.startsWith('  Wait('))).toContain('waits for a task token');
  });
});
