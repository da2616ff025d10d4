import { randomBytes } from 'node:crypto';

/**
 * A new id that sorts by creation time (base36 milliseconds, then randomness), so DynamoDB Query answers
 * newest first without an index: `pr_0m3x1k2ab7f3c9d1e`.
 */
export function newTimeSortableId(prefix: string, at: Date = new Date()): string {
  const time = at.getTime().toString(36).padStart(9, '0');
  const random = BigInt(`0x${randomBytes(8).toString('hex')}`)
    .toString(36)
    .padStart(13, '0')
    .slice(0, 12);
  return `${prefix}_${time}${random}`;
}
