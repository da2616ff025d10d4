import { z } from 'zod';

/** What every workflow step gets from the state machine. */
export const portStepInputSchema = z.object({
  accountId: z.string().min(1),
  portRequestId: z.string().min(1),
});

export const systemClock = { now: () => new Date() };
