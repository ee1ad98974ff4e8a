/** POSTs one GraphQL request over real HTTP: the status and the parsed JSON body. */
export async function postGraphql(url: string, query: string, options: { variables?: Record<string, unknown>; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  return { status: response.status, json: (await response.json()) as any };
}
