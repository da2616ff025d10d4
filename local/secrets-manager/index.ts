export { type RunningSecretsManager, type SecretsManagerOptions, startSecretsManager } from './server';
