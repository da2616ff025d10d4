import * as z from 'zod/mini';
import '../../shared/zod-locale';

/** What every workflow step gets from the state machine. */
export const portStepInputSchema = z.object({
  accountId: z.string().check(z.minLength(1)),
  portRequestId: z.string().check(z.minLength(1)),
});

export const systemClock = { now: () => new Date() };
