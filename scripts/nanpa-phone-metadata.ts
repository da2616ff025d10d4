import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { nanpaMetadata } from '../lambdas/domain/nanpa-metadata-subset';

/**
 * `npx tsx scripts/nanpa-phone-metadata.ts`: writes lambdas/domain/nanpa-phone-metadata.json, the installed
 * libphonenumber-js "min" metadata of the countries that share calling code +1 (test/unit/phone-numbers.test.ts
 * fails when the package's metadata has moved on and this needs running again).
 */
const file = path.resolve(__dirname, '../lambdas/domain/nanpa-phone-metadata.json');
writeFileSync(file, `${JSON.stringify(nanpaMetadata(require('libphonenumber-js/metadata.min.json')))}\n`);
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
