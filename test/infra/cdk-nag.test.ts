import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { acknowledgeNagFindings } from '../../lib/nag-acknowledgements';
import { buildPortInApp } from '../../local/cloudformation/synthesize';

function nagFindings(acknowledge: boolean): string {
  const outdir = mkdtempSync(path.join(tmpdir(), 'ringtonic-nag-'));
  try {
    const { app, stack } = buildPortInApp({}, outdir);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    if (acknowledge) acknowledgeNagFindings(stack);
    app.synth();
    return '';
  } catch (error) {
    return String((error as Error).message);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

it('passes the cdk-nag AWS Solutions checks, each accepted finding acknowledged with its reason', () => {
  expect(nagFindings(true)).toBe('');
});

it('reports findings when nothing is acknowledged, so the check above is not vacuous', () => {
  expect(nagFindings(false)).toMatch(/AwsSolutions-COG4/);
});
