import { parsePhoneNumberFromString } from 'libphonenumber-js/min';

/**
 * The one libphonenumber-js function the service uses, in a module of its own so that phone-numbers.ts can load
 * it on first use and the bundle still keeps only what this function needs of the package.
 */
export { parsePhoneNumberFromString };
