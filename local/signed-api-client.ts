import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface ApiAnswer<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/**
 * Calls the port-in API as the main product does: every request SigV4-signed for `execute-api`, as API Gateway's
 * IAM authorization wants. Used by the demo and the end-to-end tests.
 */
export class SignedApiClient {
  private readonly signer: SignatureV4;

  constructor(
    private readonly baseUrl: string,
    credentials: { accessKeyId: string; secretAccessKey: string },
    region = 'us-east-1',
  ) {
    this.signer = new SignatureV4({ credentials, region, service: 'execute-api', sha256: Sha256 });
  }

  async request<T = unknown>(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; sign?: boolean } = {},
  ): Promise<ApiAnswer<T>> {
    const url = new URL(path, this.baseUrl);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = {
      host: url.host,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    };
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => {
      query[key] = value;
    });
    let signedHeaders = headers;
    if (options.sign !== false) {
      const signed = await this.signer.sign(
        new HttpRequest({
          method,
          protocol: url.protocol,
          hostname: url.hostname,
          port: Number(url.port),
          path: url.pathname,
          query,
          headers,
          ...(body !== undefined ? { body } : {}),
        }),
      );
      signedHeaders = signed.headers as Record<string, string>;
    }
    const { host: _host, ...sendHeaders } = signedHeaders;
    const response = await fetch(url, { method, headers: sendHeaders, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed as T };
  }

  get<T = unknown>(path: string) {
    return this.request<T>('GET', path);
  }

  post<T = unknown>(path: string, body: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', path, { body, ...(headers ? { headers } : {}) });
  }

  put<T = unknown>(path: string, body: unknown) {
    return this.request<T>('PUT', path, { body });
  }
}
