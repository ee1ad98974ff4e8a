/** POSTs one GraphQL request over real HTTP: the status and the parsed JSON body. */
export async function postGraphql(url: string, query: string, options: { variables?: Record<string, unknown>; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  return { status: response.status, json: (await response.json()) as any };
}

/** {@link postGraphql} as the holder of `token`, failing on any GraphQL error: the data-carrying JSON body. */
export async function postGraphqlOk(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const { json } = await postGraphql(url, query, { variables, headers: { authorization: `Bearer ${token}` } });
  if (json.errors?.length) throw new Error(`GraphQL request failed: ${JSON.stringify(json.errors).slice(0, 500)}`);
  return json;
}
