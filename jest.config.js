/** @type {import('jest').Config} */
module.exports = {
  // Jest's node environment, with what the code under test writes to stdout and stderr shown only when a test fails.
  testEnvironment: '<rootDir>/test/support/captured-log-environment.ts',
  roots: ['<rootDir>/test'],
  setupFiles: ['<rootDir>/local/polyfills.ts'],
  transform: {
    '^.+\\.(t|j|mj)sx?$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // middy 5+ ships ESM only: let swc turn it into CommonJS for jest.
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testTimeout: 30000,
};
