export { type ApiGatewayOptions, type ApiRoute, type RunningApiGateway, startApiGateway } from './server';
export {
  type CloudFormationTemplate,
  gatewayResponseHeaders,
  routesFromTemplate,
  type TemplateRoute,
} from './template-routes';
