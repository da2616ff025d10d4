/**
 * A value made on first use and kept: `const client = lazy(() => new Client())`, then `client()` wherever it is
 * needed. Cold starts pay only for what the function's first path uses: SDK modules (`lazy(() => import(...))`),
 * twilio-node, the OpenAPI document, phone number metadata and the X-Ray tracer are loaded when first asked for,
 * not when the bundle is imported.
 *
 * A `create` that throws is not remembered: the next call tries again. A promise is kept as it is (a module that
 * failed to load fails the same way again).
 */
export function lazy<T>(create: () => T): () => T {
  let made = false;
  let value: T;
  return () => {
    if (!made) {
      value = create();
      made = true;
    }
    return value;
  };
}
