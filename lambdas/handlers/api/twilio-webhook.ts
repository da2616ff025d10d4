// Placeholder so the CDK app can synthesize while this handler is written; replaced in this same issue.
export const handler = async (): Promise<never> => {
  throw new Error('not implemented yet');
};
