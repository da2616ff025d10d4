import { type CountryCode, type MetadataJson, parsePhoneNumberFromString as parse } from 'libphonenumber-js/core';
import metadata from './nanpa-phone-metadata.json';

/**
 * libphonenumber-js's parse with the metadata of calling code +1 only (4 KB of the package's 83 KB "min"
 * metadata, lambdas/domain/nanpa-metadata-subset.ts), in a module of its own so that phone-numbers.ts loads it on
 * first use and the bundle keeps only what the parse needs of the package.
 */
export function parsePhoneNumberFromString(text: string, defaultCountry: CountryCode) {
  return parse(text, defaultCountry, metadata as unknown as MetadataJson);
}
