export { startTwilioSimulator, type TwilioSimulator, type TwilioSimulatorOptions } from './server';
export type { PortingEvent, WebhookDelivery, WebhookMode } from './webhooks';
