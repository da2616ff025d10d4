export { type CallRouter, type CallRouterOptions, hangUpTwiml, type RoutedRequest, startCallRouter } from './server';
