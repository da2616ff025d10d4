import type { MetadataJson } from 'libphonenumber-js/core';

/**
 * The part of libphonenumber-js metadata a US number needs: the countries of calling code +1 (the US shares it with
 * Canada and the Caribbean, and telling which one a +1 number belongs to needs all of them). Any other calling code
 * is absent, so a number of another country parses to nothing, which parseUsPhoneNumber refuses as it refused that
 * country's number with the full metadata.
 */
export function nanpaMetadata(full: MetadataJson): MetadataJson {
  const codes = full.country_calling_codes['1'] ?? [];
  return {
    version: full.version,
    country_calling_codes: { 1: codes },
    countries: Object.fromEntries(codes.map((code) => [code, full.countries[code as keyof typeof full.countries]])),
    nonGeographic: {},
  } as MetadataJson;
}
